"""Culprit ranking over stacks as the probe records them (innermost last)."""

import pytest

from pinkclinic.analysis.culprits import MIN_APP_SHARE, culprit_frame, rank, user_frames, via_of

SITE = "/usr/lib/python3.11/site-packages"
APP = "/srv/app/search.py"
PROBE = f"{SITE}/pinkclinic/bootstrap/pinkclinic_probe/_watch.py"


def test_a_collection_triggered_by_the_probe_s_own_thread_names_no_culprit():
    # the watcher thread's allocation happened to trigger the collection: no app frame,
    # and its frames are pinkclinic's, so it is nobody's culprit (it used to be ranked)
    probe_stack = [["Thread._bootstrap", "/usr/lib/python3.11/threading.py", 995],
                   ["Watcher.run", PROBE, 101], ["Watcher._watch", PROBE, 156]]
    app_stack = [["Router.__call__", f"{SITE}/starlette/routing.py", 700],
                 ["build_search_index", APP, 12]]
    assert culprit_frame(probe_stack) is None
    ranked = rank([(probe_stack, 0.3), (app_stack, 1.0)])
    assert [(c.function, round(c.share, 3)) for c in ranked] == [("build_search_index", 1.0)]


def test_a_stack_without_app_frames_still_names_its_innermost_frame():
    lib = [["Server.run", f"{SITE}/uvicorn/server.py", 60], ["dumps", "/usr/lib/python3.11/json/__init__.py", 231]]
    assert culprit_frame(lib)[0] == "dumps"


STDLIB = "/usr/lib/python3.11"


def test_a_list_of_culprits_is_the_users_code_with_the_library_call_as_via():
    """Issue 14's loop-cpu list: a handler, then the transport's write and a WeakSet
    callback (stacks with no user frame). Those count in the shares but are not listed."""
    handler = [["Handle._run", f"{STDLIB}/asyncio/events.py", 84], ["render_catalog", APP, 30],
               ["dumps", f"{STDLIB}/json/__init__.py", 231], ["iterencode", f"{STDLIB}/json/encoder.py", 258]]
    helper = [["Handle._run", f"{STDLIB}/asyncio/events.py", 84], ["price_list", APP, 50]]
    write = [["Handle._run", f"{STDLIB}/asyncio/events.py", 84],
             ["_SelectorSocketTransport.write", f"{STDLIB}/asyncio/selector_events.py", 1070]]
    weak = [["WeakSet._remove", f"{STDLIB}/_weakrefset.py", 39]]
    ranked = rank([(handler, 0.6), (helper, 0.2), (write, 0.14), (weak, 0.06)])
    assert [(c.function, round(c.share, 2)) for c in ranked] == [("render_catalog", 0.6), ("price_list", 0.2)]
    assert ranked[0].extra["via"] == {"function": "dumps", "file": f"{STDLIB}/json/__init__.py", "line": 231}
    assert "via" not in ranked[1].extra  # nothing called below it
    assert ranked[0].to_dict()["via"]["function"] == "dumps"


def test_library_culprits_are_listed_when_the_users_code_is_hardly_there():
    write = [["_SelectorSocketTransport.write", f"{STDLIB}/asyncio/selector_events.py", 1070]]
    app = [["tiny", APP, 3]]
    ranked = rank([(write, 0.95), (app, 0.05)])
    assert [c.function for c in ranked] == ["_SelectorSocketTransport.write", "tiny"]


def test_a_comprehension_is_named_after_the_function_it_sits_in():
    """CPython <= 3.11 runs each comprehension in a frame of its own."""
    outer = ["build_session_graph", APP, 40]
    comp = ["build_session_graph.<locals>.<listcomp>", APP, 41]
    gen = ["build_session_graph.<locals>.<listcomp>.<genexpr>", APP, 41]  # nested
    assert culprit_frame([["Handle._run", f"{STDLIB}/asyncio/events.py", 84], outer, comp]) is outer
    assert culprit_frame([outer, comp, gen]) is outer
    # py-spy's plain co_name, with the enclosing frame there
    assert culprit_frame([outer, ["<dictcomp>", APP, 42]]) is outer
    # no enclosing frame seen (a truncated stack): the qualified name gives it
    assert culprit_frame([comp])[:2] == ["build_session_graph", APP]
    ranked = rank([([outer, comp], 0.7), ([outer], 0.3)])
    assert [(c.function, c.share) for c in ranked] == [("build_session_graph", 1.0)]


def test_the_probe_s_gc_callback_run_inside_the_user_s_code_is_no_via():
    """A collection triggered in build_index runs the probe's GC callback on top of it: the
    callback is pinkclinic's, never the library call to blame."""
    gc_cb = ["_on_gc", f"{SITE}/pinkclinic/bootstrap/pinkclinic_probe/gc.py", 39]
    ranked = rank([([["main", APP, 1], ["build_index", APP, 19], gc_cb], 1.0)])
    assert ranked[0].function == "build_index" and "via" not in ranked[0].extra


@pytest.mark.parametrize("side", [0.9, 1.1])
def test_the_users_code_alone_is_listed_from_min_app_share(side):
    """Below MIN_APP_SHARE of the weight the user's code is too little to stand alone: the
    library's frames are listed with it; from there on, only the user's."""
    write = [["_SelectorSocketTransport.write", f"{STDLIB}/asyncio/selector_events.py", 1070]]
    app = [["tiny", APP, 3]]
    share = MIN_APP_SHARE * side
    ranked = rank([(write, 1 - share), (app, share)])
    assert [c.function for c in ranked] == (["tiny"] if side > 1 else ["_SelectorSocketTransport.write", "tiny"])
    assert ranked[-1].share == pytest.approx(share)  # of all the weight, listed or not


def test_a_stack_that_serves_no_request_has_no_culprit_even_under_the_users_code():
    """The app's ``main`` awaiting asyncio's accept loop, gunicorn's arbiter: no culprit,
    and no share of a list's total."""
    serve = [["main", APP, 80], ["Server.serve_forever", f"{STDLIB}/asyncio/base_events.py", 369],
             ["sleep", f"{STDLIB}/asyncio/tasks.py", 649]]
    arbiter = [["<module>", "/venv/bin/gunicorn", 8],
               ["Arbiter.run", f"{SITE}/gunicorn/arbiter.py", 230],
               ["Arbiter.sleep", f"{SITE}/gunicorn/arbiter.py", 380]]
    # the app's own stand-in backend, its thread waiting for a connection
    accept = [["Thread.run", f"{STDLIB}/threading.py", 982], ["_slow_backend", APP, 25],
              ["socket.accept", f"{STDLIB}/socket.py", 294]]
    assert user_frames(serve) == [0]
    assert culprit_frame(serve) is None and culprit_frame(arbiter) is None
    assert culprit_frame(accept) is None
    ranked = rank([(serve, 5.0), (arbiter, 5.0), (accept, 5.0), ([["handler", APP, 3]], 1.0)])
    assert [(c.function, c.share) for c in ranked] == [("handler", 1.0)]


def test_launch_frames_are_not_the_users_code_at_work():
    """``<module>`` of a launcher and ``main()`` outside the loop's entry started the
    server; the transport's write under them is a library culprit of its own."""
    stack = [["<module>", APP, 90], ["main", APP, 85],
             ["run_until_complete", f"{STDLIB}/asyncio/base_events.py", 640],
             ["run_forever", f"{STDLIB}/asyncio/base_events.py", 607],
             ["_SelectorSocketTransport.write", f"{STDLIB}/asyncio/selector_events.py", 1070]]
    assert user_frames(stack) == []
    assert culprit_frame(stack)[0] == "_SelectorSocketTransport.write"
    assert user_frames([["<module>", APP, 3]]) == [0]  # work done at import: the user's


def test_via_of_the_stacks_of_one_site_is_ranks_via():
    """The waits verdicts' culprits get their ``via`` by the same rule as rank's."""
    acquire = ["Semaphore.acquire", f"{STDLIB}/asyncio/locks.py", 387]
    stacks = [([["handler", APP, 5], ["get_orders", APP, 24], acquire], 3.0),
              ([["handler", APP, 5], ["get_orders", APP, 24]], 1.0)]
    assert via_of(stacks) == {"function": "Semaphore.acquire", "file": acquire[1], "line": 387}
    assert via_of(stacks) == rank(stacks)[0].extra["via"]
    assert via_of([([["get_orders", APP, 24], acquire], 1.0), ([["get_orders", APP, 24]], 1.5)]) is None
