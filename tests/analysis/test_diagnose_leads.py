"""Which issue leads when several analysers fire, each rule from both sides: waits (io-wait,
pool-exhausted) hidden behind a stalled event loop, whether the probe or py-spy saw the
stall; GC pauses of the loop's own process, not another's, taking the lead from loop-cpu;
and the GIL against a CPU shortage (GIL_MIN_USABLE), saturation staying a warning."""

from __future__ import annotations

import pytest

from pinkclinic.analysis import gc, gil, loop, loop_stacks, saturation, waits_verdict
from tests.analysis.test_gil import DIGEST, rec
from tests.analysis.test_waits import ACQUIRE, EVERY, leaf, request
from tests.synth import LOOP_IDLE, Synth, frame, on_loop, spy_thread

BLOCKING = on_loop(frame("requests_get", 12))
POOL = (request(frame("get_orders", 24), ACQUIRE), leaf("semaphore", "asyncio.Semaphore@7f01"))


def categories(d):
    return [i["category"] for i in d["issues"]]


def finding(d, signal):
    return next(f for f in d["findings"] if f["signal"] == signal)


def stalled(tmp_path, stall: float, *, pool: bool):
    """An idle server (0.05 cores) answering in 300 ms, its loop stalled ``stall`` of the
    window off-CPU; ``pool``: 9 of 10 request tasks queue for a semaphore."""
    s = Synth(tmp_path, load_s=4.0)
    s.processes(cores=0.05)
    s.load(rps=100, p50_ms=300.0)
    p = s.probe()
    p.loop()
    p.lags(p50_ms=1.0)
    p.blocks(share=stall, dur_ms=50, stack=BLOCKING, on_cpu=False)
    if pool:
        groups = [(POOL[0], 9, POOL[1]), (request(frame("render", 40)), 1, leaf("ready"))]
        for t in s.times(EVERY):
            p.record("waits", t=t, v=2, thread_id=100, n=10, walked=10, dt_ms=EVERY * 1000,
                     dur_ms=0.1, other=0, stacks=[[st, c] for st, c, _ in groups],
                     leaves=[lf for _, _, lf in groups])
    return s


@pytest.mark.parametrize("pool, wait", [(False, "io-wait"), (True, "pool-exhausted")])
@pytest.mark.parametrize("side", [0.9, 1.1])
def test_waits_are_hidden_behind_a_stalled_loop(tmp_path, pool, wait, side):
    """The waits fire either way; once the loop stalls STALL_SHARE_ISSUE of the window
    (a loop issue), the stall is the reason and the waits are dropped."""
    d = stalled(tmp_path, loop.STALL_SHARE_ISSUE * side, pool=pool).diagnose()
    fired = finding(d, "waits" if pool else "io")
    assert fired["status"] == "issue" and fired["category"] == wait
    if side > 1:
        assert categories(d) == ["loop-blocking-call"], d["summary"]
        assert d["issues"][0]["culprits"][0]["function"] == "requests_get"
    else:
        assert d["verdict"] == wait and "loop-blocking-call" not in categories(d)


@pytest.mark.parametrize("side", [0.95, 1.05])
def test_io_wait_is_hidden_behind_a_stall_py_spy_saw(tmp_path, side):
    """Attached (no probe): py-spy sees the loop busy in the app's blocking call while the
    process idles; past LOOP_BUSY_ISSUE that is the verdict, not io-wait."""
    busy = loop_stacks.LOOP_BUSY_ISSUE * side
    s = Synth(tmp_path, load_s=4.0)
    s.processes(cores=0.05)
    s.load(rps=100, p50_ms=300.0)
    s.pyspy(spy_thread(100, 100, [(BLOCKING, busy), (LOOP_IDLE, 1 - busy)]))
    d = s.diagnose()
    assert finding(d, "io")["status"] == "issue"
    assert d["verdict"] == ("loop-blocking-call" if side > 1 else "io-wait"), d["summary"]
    assert ("io-wait" in categories(d)) is (side < 1)


def gc_elsewhere(tmp_path, gc_pid: int):
    """A loop in PID 100 stalled 30% of the window on CPU, no GC inside its stalls, a lag
    that makes it the most severe issue; GC pauses of 35% of the window in ``gc_pid``,
    more seconds than the loop's stalls."""
    s = Synth(tmp_path, load_s=4.0)
    s.processes(pid=100, cores=0.9)
    s.load(rps=100, p50_ms=30.0)
    p = s.probe(pid=100)
    p.loop()
    p.lags(p50_ms=10 * loop.LAG_P50_ISSUE_MS)
    p.blocks(share=0.3, dur_ms=100, stack=on_loop(frame("build_graph", 40)), on_cpu=True)
    q = p if gc_pid == 100 else s.probe(pid=gc_pid, ppid=100)
    if gc_pid != 100:
        s.processes(pid=gc_pid, ppid=100, cores=0.5)
    # between the stalls, not inside them: the loop's evidence has no GC in its stalls
    q.gcs(share=0.35, dur_ms=5, start=s.w0 + 0.05, end=s.w1 - 0.05, stack=on_loop(frame("alloc")))
    return s


@pytest.mark.parametrize("gc_pid, lead", [(101, "loop-cpu"), (100, "gc-pressure")])
def test_only_the_loop_s_own_process_s_gc_can_take_the_lead(tmp_path, gc_pid, lead):
    """All of a process's GC pauses count as its loop thread's (they stop every thread);
    another process's pauses never stalled this loop, however many seconds they add up to."""
    s = gc_elsewhere(tmp_path, gc_pid)
    d = s.diagnose()
    assert set(categories(d)) == {"gc-pressure", "loop-cpu"}
    assert d["verdict"] == lead, d["summary"]
    g = next(i for i in d["issues"] if i["category"] == "gc-pressure")
    share = g["evidence"]["share_of_loop_stalls"]
    assert (share > gc.GC_LEADS_LOOP_SHARE) is (lead == "gc-pressure")
    sev = {i["category"]: i["severity"] for i in d["issues"]}
    assert sev["loop-cpu"] >= sev["gc-pressure"] or lead == "gc-pressure"


@pytest.mark.parametrize("side", [0.9, 1.1])
def test_the_gil_or_the_cores_are_the_limit(tmp_path, side):
    """Four pure-Python threads waiting mostly for the GIL, under a CPU quota of just under
    (over) GIL_MIN_USABLE cores. Under it the process keeps its quota busy: the cores are
    the limit, said as saturation in a healthy verdict; over it, gil-contention."""
    usable = gil.GIL_MIN_USABLE * side
    cores = {"machine": 2, "affinity": 2, "cgroup_quota": usable, "usable": usable,
             "cgroup_file": "/sys/fs/cgroup/x/cpu.max"}
    s = rec(tmp_path, on_cpu=0.3, runq=0.05, cores=cores)
    d = s.diagnose()
    g, sat = finding(d, "gil"), saturation.analyse(s.data())
    assert g["evidence"]["gil_share"] > 2 * gil.GIL_SHARE
    if side > 1:
        assert d["verdict"] == "gil-contention" and not sat.evidence["saturated"], d["summary"]
    else:
        assert g["status"] == "none" and sat.evidence["saturated"]
        assert d["verdict"] == "healthy" and "were saturated" in d["summary"], d["summary"]
        assert d["saturation"]["category"] == "cpu-saturation"


def test_gil_contention_leads_and_a_saturated_cpu_is_its_warning(tmp_path):
    """Threads that wait for the GIL while the process also fills its two cores (C code
    between the Python): gil-contention is the issue, saturation a warning beside it."""
    s = rec(tmp_path, on_cpu=0.45, runq=0.0, busy=1.0, stack=DIGEST)
    d = s.diagnose()
    assert d["verdict"] == "gil-contention", d["summary"]
    assert d["saturation"]["category"] == "cpu-saturation"
    assert any("were saturated" in w for w in d["warnings"]), d["warnings"]
    assert "cpu-saturation" not in categories(d)  # never an issue of its own


def test_a_saturated_server_s_slow_answers_are_not_io_wait_from_the_waits_either(tmp_path):
    """Requests' tasks waiting on a socket past IO_SHARE, but the threads waited for a core:
    the saturation rule drops io-wait whichever analyser said it."""
    s = rec(tmp_path, on_cpu=0.1, runq=0.5, futex_of_rest=0.0, stack=DIGEST, p50_ms=200)
    p = s.probe(pid=100)
    sock = (request(frame("fetch", 35), ["StreamReader._wait_for_data", "/x/asyncio/streams.py", 543]),
            leaf("socket", "127.0.0.1:5432"))
    for t in s.times(EVERY):
        p.record("waits", t=t, v=2, thread_id=100, n=10, walked=10, dt_ms=EVERY * 1000, dur_ms=0.1,
                 other=0, stacks=[[sock[0], 10]], leaves=[sock[1]])
    f = waits_verdict.analyse(s.data())
    assert f.category == "io-wait"
    d = s.diagnose()
    assert d["verdict"] == "healthy" and d["saturation"]["category"] == "cpu-saturation", d["summary"]
