"""Culprit ranking over stacks as the probe records them (innermost last)."""

from pinkclinic.analysis.culprits import culprit_frame, rank

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
