"""The io-wait analyser: slow but idle, from both sides of each threshold, and where it waits."""

import pytest

from pinkclinic.analysis import io_wait
from pinkclinic.analysis.finding import INSUFFICIENT, ISSUE, NONE
from tests.synth import SITE_FRAME, THREAD_RUN, Synth, frame, on_loop, spy_thread

FETCH = on_loop(frame("fetch_prices", 21), ["sleep", "/usr/lib/python3.11/asyncio/tasks.py", 640])


def io_rec(tmp_path, *, cores=0.1, p50_ms=100.0):
    s = Synth(tmp_path)
    s.processes(cores=cores)
    s.load(rps=50, p50_ms=p50_ms)
    return s


@pytest.mark.parametrize("side, status", [(0.95, NONE), (1.05, ISSUE)])
def test_latency_threshold(tmp_path, side, status):
    p50 = io_wait.IO_LATENCY_P50_MS * side
    f = io_wait.analyse(io_rec(tmp_path, p50_ms=p50).data())
    assert f.evidence["latency_p50_ms"] == pytest.approx(p50)
    assert f.status == status and (f.category == "io-wait") == (status == ISSUE)


@pytest.mark.parametrize("side, status", [(0.95, ISSUE), (1.05, NONE)])
def test_idle_cpu_threshold(tmp_path, side, status):
    cores = io_wait.IO_CPU_IDLE_P90 * side
    f = io_wait.analyse(io_rec(tmp_path, cores=cores).data())
    assert f.evidence["cpu_busiest_p90"] == pytest.approx(cores, abs=0.01)
    assert f.status == status


def test_latency_is_weighted_by_each_second_s_requests(tmp_path):
    """Two slow seconds of few requests do not make a fast load slow."""
    s = Synth(tmp_path)
    s.processes(cores=0.1)
    s.load(rps=lambda t: 10 if t < 2 else 500, p50_ms=lambda t: 400 if t < 2 else 2)
    assert io_wait.latency_p50(s.data()) == 2
    assert io_wait.analyse(s.data()).status == NONE


def test_culprit_is_where_tasks_wait_in_the_app(tmp_path):
    s = io_rec(tmp_path)
    p = s.probe()
    framework = on_loop(SITE_FRAME, ["sleep", "/usr/lib/python3.11/asyncio/tasks.py", 640])
    p.waits([(framework, 50), (FETCH, 5)])  # app stacks first, however few
    f = io_wait.analyse(s.data())
    assert f.status == ISSUE and f.culprits[0].function == "fetch_prices"
    assert "requests wait in fetch_prices()" in f.summary


def test_without_waits_the_culprit_is_a_blocked_thread(tmp_path):
    s = io_rec(tmp_path)
    s.pyspy(spy_thread(100, 101, [([THREAD_RUN, frame("call_upstream", 7)], 1.0)], name="worker"))
    f = io_wait.analyse(s.data())
    assert f.status == ISSUE and f.culprits[0].function == "call_upstream"


def test_missing_load_or_cpu_is_insufficient(tmp_path):
    s = Synth(tmp_path / "a")
    s.processes(cores=0.1)
    f = io_wait.analyse(s.data())
    assert f.status == INSUFFICIENT and "no load was recorded" in f.summary
    s = Synth(tmp_path / "b")
    s.load(p50_ms=100)  # no process samples
    f = io_wait.analyse(s.data())
    assert f.status == INSUFFICIENT and "too few CPU or latency samples" in f.summary
