"""Was the server exercised? The failed share of the load, and CPU without pinkclinic's load."""

import pytest

from pinkclinic.analysis import traffic
from pinkclinic.analysis.finding import INSUFFICIENT, NONE
from tests.synth import Synth

AT = round(100 * traffic.LOAD_ERROR_SHARE)  # failed answers of 100 a second at the threshold


@pytest.mark.parametrize("failed, status", [(AT - 1, NONE), (AT, INSUFFICIENT)])
def test_failed_share_threshold(tmp_path, failed, status):
    """LOAD_ERROR_SHARE of the answers failing (at or above) is not the server's normal work."""
    assert (failed / 100 >= traffic.LOAD_ERROR_SHARE) == (status == INSUFFICIENT)
    s = Synth(tmp_path)
    s.load(rps=100, status={"200": 100 - failed, "404": failed})
    f = traffic.analyse(s.data())
    assert f.status == status
    assert f.evidence["failed_share"] == failed / 100
    assert f.evidence["failed_by_kind"] == {"404": failed * 10}
    if status == INSUFFICIENT:
        assert f"404: {failed * 10:,}" in f.summary and "hardly exercised" in f.summary


def test_connection_errors_are_failed_attempts(tmp_path):
    """60 answers and 60 refused connections a second: half the attempts failed."""
    s = Synth(tmp_path)
    s.load(rps=60, errors=60)
    f = traffic.analyse(s.data())
    assert f.status == INSUFFICIENT
    assert f.evidence["failed_by_kind"] == {"connection errors": 600}
    assert f.evidence["failed_share"] == 0.5


def test_no_answer_at_all(tmp_path):
    s = Synth(tmp_path / "a")
    s.load(rps=0, errors=30)
    f = traffic.analyse(s.data())
    assert f.status == INSUFFICIENT and "every one of the load's 300 connections failed" in f.summary
    s = Synth(tmp_path / "b")
    s.load(rps=0)
    f = traffic.analyse(s.data())
    assert f.status == INSUFFICIENT and f.summary == "the load got no answer at all"


def test_only_the_window_s_seconds_count(tmp_path):
    """Failures in seconds outside the window (a warm-up before it) do not count."""
    s = Synth(tmp_path)
    s.load(rps=100, status={"500": 100}, start=s.t0 - 3, end=s.t0, result=False)
    s.load(rps=100)  # appended: the load window's seconds
    f = traffic.analyse(s.data())
    assert f.status == NONE and f.evidence["answers"] == 1000


@pytest.mark.parametrize("side, status", [(0.9, INSUFFICIENT), (1.1, NONE)])
def test_without_pinkclinic_s_load_cpu_shows_traffic(tmp_path, side, status):
    s = Synth(tmp_path, options={"no_load": True})
    s.processes(pid=100, cores=traffic.NO_TRAFFIC_CPU * side)
    s.processes(pid=101, cores=traffic.NO_TRAFFIC_CPU * 0.5)
    f = traffic.analyse(s.data())
    assert f.evidence["cpu_busiest_mean"] == pytest.approx(traffic.NO_TRAFFIC_CPU * side, abs=5e-4)
    assert f.status == status
    s = Synth(tmp_path, options={"no_load": True})  # no CPU samples either: nothing to judge by
    assert traffic.analyse(s.data()).status == NONE
