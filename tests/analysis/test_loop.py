"""The event-loop analyser's rules, each threshold from both sides, on synthetic recordings."""

import pytest

from pinkclinic.analysis import loop
from pinkclinic.analysis.finding import INSUFFICIENT, ISSUE, NONE
from pinkclinic.analysis.loop_starvation import LOOP_RAN_SHARE_OF_LAG
from tests.synth import LOOP_IDLE, RUN_FOREVER, RUN_ONCE, SELECT, Synth, frame, on_loop, spy_thread

HOT = on_loop(frame("hot", 12))
SLEEPY = on_loop(frame("sleepy", 30))


def loop_rec(tmp_path, *, cores=0.3, p50_ms=1.0, **kw):
    s = Synth(tmp_path, **kw)
    s.processes(cores=cores)
    p = s.probe()
    p.loop()
    p.lags(p50_ms=p50_ms)
    return s, p


BELOW, ABOVE = 0.95, 1.05  # just below and just above a threshold


@pytest.mark.parametrize("side, status", [(BELOW, NONE), (ABOVE, ISSUE)])
def test_stall_share_threshold(tmp_path, side, status):
    share = loop.STALL_SHARE_ISSUE * side
    s, p = loop_rec(tmp_path)
    p.blocks(share=share, stack=HOT)
    f = loop.analyse(s.data())
    assert f.evidence["stall_share"] == pytest.approx(share, abs=0.002)
    assert f.status == status
    if status == ISSUE:
        assert f.category == "loop-cpu" and f.culprits[0].function == "hot"
        assert f.evidence["culprits_from"] == "stall stacks"
        assert f.severity == pytest.approx(share / loop.STALL_SHARE_FULL, abs=0.01)


@pytest.mark.parametrize("side, status", [(0.99, NONE), (1.01, ISSUE)])
def test_median_lag_threshold_without_any_stall(tmp_path, side, status):
    p50 = loop.LAG_P50_ISSUE_MS * side
    s, _ = loop_rec(tmp_path, p50_ms=p50, cores=0.9)
    f = loop.analyse(s.data())
    assert f.status == status and f.evidence["lag_p50_ms"] == pytest.approx(p50)
    assert f.evidence["stall_share"] == 0
    if status == ISSUE:  # no stall: CPU-heavy or not by the process's CPU
        assert f.category == "loop-cpu" and f"median event-loop lag was {p50:.1f} ms" in f.summary


@pytest.mark.parametrize("side, category", [(0.93, "loop-blocking-call"), (1.07, "loop-cpu")])
def test_without_on_cpu_the_process_cpu_decides(tmp_path, side, category):
    """Stalls the probe could not classify (no schedstat): CPU_BUSY_CORES of process CPU decides."""
    cores = loop.CPU_BUSY_CORES * side
    s, p = loop_rec(tmp_path, cores=cores)
    p.blocks(share=0.3, stack=HOT, on_cpu=None)
    f = loop.analyse(s.data())
    assert f.status == ISSUE and f.category == category
    assert f.evidence["on_cpu_share"] is None
    assert s.data().cpu.busiest == pytest.approx(cores, abs=0.02)


@pytest.mark.parametrize("side, category", [(0.9, "loop-blocking-call"), (1.1, "loop-cpu")])
def test_on_cpu_share_threshold(tmp_path, side, category):
    cpu_share = loop.ON_CPU_SHARE_CPU * side
    s, p = loop_rec(tmp_path, cores=0.2)  # process CPU must not matter when on_cpu is known
    p.blocks(share=0.4 * cpu_share, dur_ms=50, stack=HOT, on_cpu=True)
    p.blocks(share=0.4 * (1 - cpu_share), dur_ms=50, stack=SLEEPY, on_cpu=False,
             start=s.w0 + 0.013)  # interleaved, not overlapping the others
    f = loop.analyse(s.data())
    assert f.status == ISSUE and f.category == category
    assert f.evidence["on_cpu_share"] == pytest.approx(cpu_share, abs=0.02)
    assert {c.function for c in f.culprits} == {"hot", "sleepy"}


@pytest.mark.parametrize("records, status", [(loop.MIN_LOOP_RECORDS - 1, INSUFFICIENT),
                                             (loop.MIN_LOOP_RECORDS, ISSUE)])
def test_too_few_loop_records_is_insufficient(tmp_path, records, status):
    s = Synth(tmp_path)
    s.processes(cores=0.9)
    p = s.probe()
    p.loop()
    for i in range(records):  # long stalls: a stalled loop writes few lag records
        p.block(t=s.w0 + 1 + 2 * i, dur_ms=1500, stack=HOT)
    f = loop.analyse(s.data())
    assert f.status == status
    if status == INSUFFICIENT:
        assert f.summary == "only 0 event-loop lag records in the load window"


def test_no_probe_no_loop_no_window(tmp_path):
    s = Synth(tmp_path / "a")
    s.processes()
    f = loop.analyse(s.data())
    assert f.status == NONE and f.missing == ["loop-lag"]
    s = Synth(tmp_path / "b")
    s.probe()  # a probe, but no loop ever started: a sync server
    f = loop.analyse(s.data())
    assert f.status == NONE and f.evidence == {"loops": 0}
    s = Synth(tmp_path / "c", load_phase=False)
    s.rec.update(timings={"listening": None, "launched": None, "stopping": None,
                          "stopped": None, "finished": None})
    f = loop.analyse(s.data())
    assert f.status == INSUFFICIENT and f.summary == "no load window was recorded"


def test_idle_stalls_are_left_out(tmp_path):
    """A stall caught in the selector's wait: the loop was idle, its thread did not get
    the CPU back in time. Not the loop's work."""
    s, p = loop_rec(tmp_path)
    p.blocks(share=0.3, stack=LOOP_IDLE)
    f = loop.analyse(s.data())
    assert f.status == NONE and f.evidence["stalls"] == 0
    # a wait that is not the loop's own (subprocess.run's selector under a handler) counts
    s2, p2 = loop_rec(tmp_path)
    p2.blocks(share=0.3, stack=[RUN_FOREVER, RUN_ONCE, frame("handler"), SELECT], on_cpu=False)
    f2 = loop.analyse(s2.data())
    assert f2.status == ISSUE and f2.category == "loop-blocking-call"


@pytest.mark.parametrize("gc_part, status", [(1.0, NONE), (0.5, ISSUE)])
def test_stall_time_inside_gc_pauses_is_left_to_gc(tmp_path, gc_part, status):
    s, p = loop_rec(tmp_path)
    p.blocks(share=0.3, dur_ms=100, stack=HOT)
    for b in s.data().probe["block"]:  # a GC pause inside each stall, same thread
        p.gc(t=b["t"], dur_ms=b["dur_ms"] * gc_part)
    f = loop.analyse(s.data())
    assert f.evidence["stall_in_gc_s"] == pytest.approx(0.3 * (s.w1 - s.w0) * gc_part, rel=0.02)
    assert f.status == status
    # a GC pause on another thread does not excuse the loop
    s2, p2 = loop_rec(tmp_path)
    p2.blocks(share=0.3, dur_ms=100, stack=HOT)
    for b in s2.data().probe["block"]:
        p2.gc(t=b["t"], dur_ms=b["dur_ms"], thread_id=999)
    assert loop.analyse(s2.data()).status == ISSUE


@pytest.mark.parametrize("busy, source", [(loop.MIN_LOOP_SAMPLES - 1, "stall stacks"),
                                          (loop.MIN_LOOP_SAMPLES, "py-spy loop-thread samples")])
def test_lag_culprits_come_from_pyspy_with_enough_samples(tmp_path, busy, source):
    """A lag issue (no long stall) names culprits from py-spy's samples of the loop thread
    when it has MIN_LOOP_SAMPLES busy ones, else from the few stall stacks."""
    s, p = loop_rec(tmp_path, p50_ms=15.0, cores=0.9)
    p.block(t=s.w0 + 1, dur_ms=40, stack=on_loop(frame("stalled_once")))
    start = s.w0 + 2
    s.pyspy(spy_thread(100, 100, [(HOT, 1.0)]), start=start, end=start + busy / 100)
    f = loop.analyse(s.data())
    assert f.status == ISSUE and f.evidence["culprits_from"] == source
    assert f.culprits[0].function == ("hot" if busy == loop.MIN_LOOP_SAMPLES else "stalled_once")


@pytest.mark.parametrize("side, status", [(0.9, NONE), (1.1, ISSUE)])
def test_a_loop_starved_of_the_gil_is_not_a_loop_issue(tmp_path, side, status):
    """Ticks late 20% of the time (2 a record, 20 ms each) while py-spy saw the loop
    thread run outside its selector less than half of that: it waited to run."""
    ran = LOOP_RAN_SHARE_OF_LAG * 0.2 * side
    s = Synth(tmp_path)
    s.processes(cores=0.9)
    p = s.probe()
    p.loop()
    p.lags(p50_ms=20.0, n=2)
    s.pyspy(spy_thread(100, 100, [(HOT, ran), (LOOP_IDLE, 1 - ran)]))
    f = loop.analyse(s.data())
    assert f.status == status
    if status == NONE:
        assert f.evidence["late_share"] == pytest.approx(0.2, abs=0.005)
        assert f.evidence["loop_ran_share"] == pytest.approx(ran, abs=0.005)
        assert "waited to run again" in f.summary
    else:
        assert f.category == "loop-cpu" and f.culprits[0].function == "hot"


def test_the_worst_loop_is_reported(tmp_path):
    s, p = loop_rec(tmp_path, cores=0.9)
    p.blocks(share=0.05, stack=on_loop(frame("light")))
    q = s.probe(pid=101)
    q.loop()
    q.lags(p50_ms=1.0)
    q.blocks(share=0.2, stack=on_loop(frame("heavy")), on_cpu=True)
    s.processes(pid=101, cores=0.9)
    f = loop.analyse(s.data())
    assert f.status == ISSUE and f.evidence["loop_pid"] == 101 and f.evidence["loops"] == 2
    assert f.culprits[0].function == "heavy"
