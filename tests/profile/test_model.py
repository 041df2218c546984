"""The model: areas, idle rules, merging, the generic input."""

from __future__ import annotations

import sysconfig

from pinkclinic.profile import from_stacks
from pinkclinic.profile.areas import AreaClassifier, normalize_dist
from pinkclinic.profile.idle import is_loop_entry, is_wait_frame, releases_gil

STDLIB = sysconfig.get_paths()["stdlib"]
SITE = sysconfig.get_paths()["purelib"]


def test_areas_from_this_interpreter_and_by_path():
    c = AreaClassifier()
    assert c("f", "/srv/app/server.py") == "app"
    assert c("f", f"{STDLIB}/asyncio/events.py") == "stdlib"
    assert c("f", "<frozen importlib._bootstrap>") == "stdlib"
    assert c("f", "<string>") == "app"
    assert c("f", f"{SITE}/starlette/routing.py") == "deps:starlette"
    assert c("f", f"{SITE}/yaml/__init__.py") == "deps:pyyaml"  # top-level != distribution
    assert c("f", f"{SITE}/_pytest/main.py") == "deps:pytest"
    # another Python's paths: the path fallback still gives deps and stdlib
    assert c("f", "/opt/py3.9/lib/python3.9/site-packages/notinstalled_pkg/x.py") == \
        "deps:notinstalled-pkg"
    assert c("f", "/usr/lib/python3/dist-packages/six.py") == "deps:six"
    assert c("f", "/opt/py3.9/lib/python3.9/json/decoder.py") == "stdlib"
    assert c("f", "/usr/local/lib/python3.13t/threading.py") == "stdlib"
    # native frames: not Python sources
    assert c("epoll_pwait", "/usr/lib/x86_64-linux-gnu/libc.so.6") == "native"
    assert c("llparse", "/project/vendor/llhttp/src/llhttp.c") == "native"
    assert c("f", "") == "native"
    assert c("pbkdf2_hmac_impl", "/src/Python-3.11.7/Modules/_hashopenssl.c") == "native"
    assert c("select_epoll_poll", "/src/Modules/clinic/selectmodule.c.h") == "native"
    assert c("0x7fdb39a9c284", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3") == "native"
    assert c("pbkdf2_hmac", "<built-in>") == "native"  # pyinstrument's C functions
    # a console script is not native: its distribution's area when the name is known
    assert c("<module>", "/root/.pyenv/versions/3.11.7/bin/pytest") == "deps:pytest"
    assert c("<module>", "/srv/venv/bin/serve-my-app") == "app"
    assert c("<module>", "/srv/app/manage") == "app"
    assert c("_PyEval_EvalFrameDefault", "/usr/bin/python3.11") == "native"
    assert c("main", "/usr/local/bin/python") == "native"
    assert c("malloc", "??") == "native"
    assert c("0x7f3a", "[vdso]") == "native"
    assert c("watch", "/x/pinkclinic/bootstrap/pinkclinic_probe/loop.py") == "deps:pinkclinic"
    assert normalize_dist("Zope.Interface_x") == "zope-interface-x"


def test_idle_rules():
    sel = f"{STDLIB}/selectors.py"
    thr = f"{STDLIB}/threading.py"
    assert is_wait_frame("EpollSelector.select", sel)
    assert is_wait_frame("Condition.wait", thr)
    assert is_wait_frame("Thread._wait_for_tstate_lock", thr)
    assert is_wait_frame("epoll_pwait", "/usr/lib/x86_64-linux-gnu/libc.so.6")
    assert not is_wait_frame("Thread.run", thr)
    assert not is_wait_frame("select", "/srv/app/select.py")
    assert not is_wait_frame("write", "/usr/lib/x86_64-linux-gnu/libc.so.6")
    gunicorn = f"{SITE}/gunicorn/arbiter.py"
    assert is_wait_frame("Arbiter.wait_for_signals", gunicorn)  # gunicorn 27's master
    assert is_wait_frame("Arbiter.sleep", gunicorn)              # older gunicorn's
    assert not is_wait_frame("Arbiter.reap_workers", gunicorn)
    assert is_loop_entry("Runner.run", f"{STDLIB}/asyncio/runners.py")
    assert not is_loop_entry("Runner.run", "/srv/app/runners.py")



def test_frames_that_release_the_gil():
    """A socket's send or receive, and every wait frame; not the code that computes, nor
    an app's function of the same name."""
    assert releases_gil("_SocketWriter.write", f"{STDLIB}/socketserver.py")
    assert releases_gil("SocketIO.readinto", f"{STDLIB}/socket.py")
    assert releases_gil("SSLSocket.recv_into", f"{STDLIB}/ssl.py")
    assert releases_gil("write", f"{SITE}/gunicorn/util.py")
    assert releases_gil("Condition.wait", f"{STDLIB}/threading.py")  # a wait frame
    assert not releases_gil("BaseHTTPRequestHandler.send_header", f"{STDLIB}/http/server.py")
    assert not releases_gil("write", "/srv/app/util.py")
    assert not releases_gil("score_candidates", "/srv/app/main.py")


def _stacks():
    app = "/srv/app/main.py"
    runners = f"{STDLIB}/asyncio/runners.py"
    sel = f"{STDLIB}/selectors.py"
    return [
        ([("main", app, 1), ("hot", app, 10)], 5, 5, 1, 1),
        ([("main", app, 1), ("hot", app, 11)], 3, 3, 1, 1),   # another line, same frame
        ([("main", app, 1), ("cold", app, 20)], 1, 1, 1, 1),
        ([("main", app, 1), ("EpollSelector.select", sel, 468)], 4, 4, 1, 1),
        ([("Runner.run", runners, 118)], 2, 2, 1, 2),         # uvloop idle leaf
        ([("Runner.run", runners, 118), ("cb", app, 30)], 1, 1, 1, 2),
    ]


def test_merging_by_function_and_file_keeps_hottest_line():
    p = from_stacks(_stacks())
    hot = [f for f in p.frames if f.function == "hot"]
    assert len(hot) == 1 and hot[0].line == 10
    stats = {p.frames[s.frame].function: s for s in p.functions()}
    assert stats["hot"].self == 8 and stats["main"].total == 9
    assert "EpollSelector.select" not in stats  # idle excluded by default
    p_lines = from_stacks(_stacks(), lines=True)
    assert len([f for f in p_lines.frames if f.function == "hot"]) == 2


def test_idle_classification_per_sample():
    p = from_stacks(_stacks())
    assert p.total() == 16 and p.total(idle=False) == 10
    idle_leaves = sorted(p.frames[fr[-1]].function for _, fr, _, _ in p.iter_stacks()
                         if p.is_idle(fr))
    assert idle_leaves == ["<idle>", "EpollSelector.select"]
    runner = next(f for f in p.frames if f.function == "Runner.run")
    assert runner.area == "stdlib"  # the loop entry keeps its area; <idle> carries the wait


def test_without_idle_rules_every_sample_is_busy():
    """A py-spy recording made without --idle: py-spy already dropped the waiting samples."""
    from pinkclinic.profile import ProfileBuilder

    b = ProfileBuilder(idle_rules=False)
    t = b.thread(1, 1)
    for frames, w, *_ in _stacks():
        b.add(t, tuple(b.frame(*f) for f in frames), w, w)
    p = b.build()
    assert p.total(idle=False) == p.total() == 16
    assert "idle" not in p.areas()


def test_app_hotspots_rank_by_the_innermost_app_frame():
    from pinkclinic.profile.ranking import app_hotspots

    app, ssl = "/srv/app.py", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"
    p = from_stacks([
        ([("main", app, 1), ("hash_password", app, 5), ("pbkdf2", "<built-in>", 0),
          ("SHA256", ssl, 0)], 90, 90, 1, 1),
        ([("main", app, 1), ("render", app, 9)], 8, 8, 1, 1),
        ([("main", app, 1)], 2, 2, 1, 1),
    ])
    stats = app_hotspots(p)
    names = [(p.frames[s.frame].function, s.own, s.self, s.total) for s in stats]
    assert names == [("hash_password", 90, 0, 90), ("render", 8, 8, 8), ("main", 2, 2, 100)]


def test_threads_and_processes():
    stacks = [([("a", "/x/a.py", 1)], 1, 1, 10, 10), ([("a", "/x/a.py", 1)], 2, 2, 11, 12)]
    p = from_stacks(stacks, thread_names={(11, 12): "worker"}, process_names={11: "gunicorn: w"})
    assert [(t.pid, t.tid, t.name, t.process) for t in p.threads] == \
        [(10, 10, "", ""), (11, 12, "worker", "gunicorn: w")]
    assert p.processes() == {10: "", 11: "gunicorn: w"}


def test_bytes_unit_keeps_counts():
    stacks = [([("alloc", "/x/a.py", 3)], 4096, 2, 1, 1), ([("alloc", "/x/a.py", 3)], 100, 1, 1, 1)]
    p = from_stacks(stacks, unit="bytes")
    assert p.has_counts
    (s,) = p.functions()
    assert (s.self, s.self_count) == (4196, 3)


def test_recursion_counts_total_once():
    f = ("rec", "/x/r.py", 1)
    p = from_stacks([([f, f, f], 2, 2, 1, 1)])
    (s,) = p.functions()
    assert s.total == 2 and s.self == 2


def test_bytes_have_no_idle():
    sel = f"{STDLIB}/selectors.py"
    p = from_stacks([([("main", "/a.py", 1), ("EpollSelector.select", sel, 468)], 64, 1, 1, 1)],
                    unit="bytes")
    assert p.total(idle=False) == 64
    assert {f.area for f in p.frames} == {"app", "stdlib"}
