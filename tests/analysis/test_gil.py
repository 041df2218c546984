"""GIL contention from py-spy's busy threads, the kernel's thread states and the process's
CPU: each of the three thresholds from both sides, and the missing signals."""

import pytest

from pinkclinic.analysis import gil
from pinkclinic.analysis.finding import INSUFFICIENT, ISSUE, NONE
from tests.synth import COND_WAIT, THREAD_RUN, Synth, frame, spy_thread

CRUNCH = [THREAD_RUN, frame("crunch", 33)]
IDLE = [THREAD_RUN, COND_WAIT]


def threaded(tmp_path, *, cores, busy, states=None, **kw):
    """Process 100 at ``cores``; one py-spy thread per entry of ``busy`` (its busy share);
    ``states`` are (running, futex, blocked) per thread (default: all wanting the GIL)."""
    s = Synth(tmp_path, **kw)
    s.processes(cores=cores)
    s.load()
    s.pyspy(*[spy_thread(100, 200 + i, [(CRUNCH, b), (IDLE, 1 - b)], name=f"worker-{i}")
              for i, b in enumerate(busy)])
    s.thread_states(100, {200 + i: (states or (5, 20, 0)) for i in range(len(busy))})
    return s


@pytest.mark.parametrize("side, status", [(0.95, NONE), (1.05, ISSUE)])
def test_minimum_cpu(tmp_path, side, status):
    """Three threads want to run all the time; the process must be near the GIL's core."""
    cores = gil.GIL_MIN_CPU * side
    f = gil.analyse(threaded(tmp_path, cores=cores, busy=[1, 1, 1]).data())
    assert f.evidence["cpu_cores"] == pytest.approx(cores, abs=0.015)
    assert f.evidence["wanting_threads"] == pytest.approx(3.0, abs=0.02)
    assert f.status == status
    if status == ISSUE:
        assert f.category == "gil-contention" and f.evidence["threads_wanting"] == 3
        assert f.evidence["source"] == "py-spy and /proc thread states"


@pytest.mark.parametrize("side, status", [(0.95, NONE), (1.05, ISSUE)])
def test_minimum_threads_wanting_the_gil(tmp_path, side, status):
    share = gil.GIL_MIN_BUSY_THREADS * side / 2  # two threads, each busy this share
    f = gil.analyse(threaded(tmp_path, cores=0.7, busy=[share, share]).data())
    assert f.evidence["wanting_threads"] == pytest.approx(2 * share, abs=0.02)
    assert f.status == status


@pytest.mark.parametrize("side, status", [(0.95, NONE), (1.05, ISSUE)])
def test_wait_share(tmp_path, side, status):
    """Two threads want 2 thread-seconds a second; the process runs (1 - wait) * 2 cores."""
    wait = gil.GIL_WAIT_SHARE * side
    f = gil.analyse(threaded(tmp_path, cores=2 * (1 - wait), busy=[1, 1]).data())
    assert f.evidence["wait_share"] == pytest.approx(wait, abs=0.01)
    assert f.status == status


def test_threads_asleep_in_python_do_not_want_the_gil(tmp_path):
    """py-spy counts a thread in time.sleep() as busy; the kernel sees it blocked: it does
    not want the GIL, so three such threads at 0.7 cores are no contention."""
    s = threaded(tmp_path, cores=0.7, busy=[1, 1, 1], states=(2, 0, 23))
    f = gil.analyse(s.data())
    assert f.status == NONE
    assert f.evidence["busy_threads"] == pytest.approx(3.0, abs=0.02)
    assert f.evidence["wanting_threads"] == pytest.approx(3 * 2 / 25, abs=0.02)
    assert "more looked busy in Python but slept or waited for I/O" in f.summary


def test_without_thread_states_py_spy_stands_alone(tmp_path):
    s = Synth(tmp_path)
    s.processes(cores=0.7)
    s.pyspy(*[spy_thread(100, 200 + i, [(CRUNCH, 1.0)]) for i in range(3)])
    s.thread_states(100, {}, error="ptrace access denied")
    f = gil.analyse(s.data())
    assert f.status == ISSUE
    assert f.evidence["source"] == "py-spy only (ptrace access denied)"


def test_missing_signals(tmp_path):
    s = Synth(tmp_path / "a")
    s.processes(cores=0.9)
    f = gil.analyse(s.data())
    assert f.status == NONE and f.missing == ["stacks"]
    s = Synth(tmp_path / "b")  # py-spy sampled less than MIN_SPAN_S of the window
    s.processes(cores=0.9)
    s.pyspy(spy_thread(100, 200, [(CRUNCH, 1.0)]), start=s.w0 + 1, end=s.w0 + 1.9)
    assert gil.analyse(s.data()).status == INSUFFICIENT
    s = Synth(tmp_path / "c")  # stacks, but no CPU samples of that process
    s.pyspy(spy_thread(100, 200, [(CRUNCH, 1.0)]))
    f = gil.analyse(s.data())
    assert f.status == INSUFFICIENT and "no CPU samples" in f.summary


def test_the_contended_process_is_reported_among_several(tmp_path):
    s = Synth(tmp_path)
    s.processes(pid=100, cores=0.2)
    s.processes(pid=101, cores=0.9)
    s.pyspy(spy_thread(100, 100, [(IDLE, 1.0)]),
            *[spy_thread(101, 300 + i, [(CRUNCH, 1.0)]) for i in range(4)])
    f = gil.analyse(s.data())
    assert f.status == ISSUE and f.evidence["pid"] == 101 and "PID 101" in f.summary
