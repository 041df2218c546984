"""The heap analysis over captures: the window and its grid, too few snapshots, a failed
load, growth too small to judge, and the diagnosis. Synthetic captures (see
tests/heap/synth.py); tests/heap/test_samples.py and test_recording.py run memray."""

import pytest

from pinkclinic.analysis.traffic import LOAD_ERROR_SHARE
from pinkclinic.errors import PinkError
from pinkclinic.heap.analyse import _analyse
from pinkclinic.heap.growth import MAX_GRID, MIN_GRID
from pinkclinic.heap.timeline import Timeline
from tests.heap.synth import APP, open_capture, record

HANDLER = [("<module>", APP, 1), ("remember", APP, 25)]
T0 = 1000.0


def leaking(n_snapshots=41, step=0.25, per_snapshot=64 << 10, pid=4000):
    """A capture whose ``remember`` keeps ``per_snapshot`` bytes more at every snapshot."""
    times = [T0 + step * i for i in range(n_snapshots)]
    records = [record(HANDLER, (i, None, 10, per_snapshot)) for i in range(n_snapshots)]
    heap = [(5 << 20) + per_snapshot * (i + 1) for i in range(n_snapshots)]
    return open_capture(times, heap, records, pid=pid)


def load(seconds=10, ok=100, failed=0):
    return Timeline.from_ticks([{"t": T0 + i, "requests": ok + failed,
                                 "status": {"200": ok, "500": failed}} for i in range(seconds)])


def analyse(caps, window=None, timeline=None):
    return _analyse(caps, window, timeline, MAX_GRID, {"command": "python app.py", "root": "/srv/app",
                                                         "rerun": ""})


def test_a_steady_leak_is_diagnosed_per_request():
    cap = leaking()
    result = analyse([cap], timeline=load())
    assert result["window"] == {"start": T0, "end": T0 + 10, "source": "load", "grid_points": 41,
                                "requests": 1000}
    assert result["leaks"] == {"status": "ok", "detail": "", "excluded_bytes": {}}
    (s,) = result["suspects"]
    assert s["function"] == "remember" and s["growth_bytes"] == 40 * (64 << 10)
    assert s["bytes_per_request"] == pytest.approx(40 * (64 << 10) / 1000, rel=1e-3)
    d = result["diagnosis"]
    assert d["category"] == "memory-leak" and d["evidence"]["heap_at_window_start"] == (5 << 20) + (64 << 10)
    assert d["summary"].startswith("`remember` in views.py:25 keeps about 2.6 kB per request")
    assert "`pinkclinic heap -- python app.py`" in d["recommendation"]
    assert result["peak"]["bytes"] == 41 * (64 << 10) and cap.reader is None  # closed
    assert result["load"]["served"] == 1000


@pytest.mark.parametrize("snapshots, status", [(MIN_GRID - 1, "insufficient-data"), (MIN_GRID, "ok")])
def test_too_few_snapshots_in_the_window(snapshots, status):
    cap = leaking(n_snapshots=snapshots, step=1.0, per_snapshot=1 << 20)
    result = analyse([cap], window=(T0, T0 + 10))
    assert result["window"]["grid_points"] == snapshots and result["window"]["source"] == "given"
    assert result["leaks"]["status"] == status
    if status != "ok":
        assert result["leaks"]["reason"] == "short-window" and result["diagnosis"] is None
        assert result["peak"]["bytes"] > 0  # the peak is still read
    else:
        assert result["diagnosis"]["evidence"]["bytes_per_request"] is None  # no load: per second


AT = round(100 * LOAD_ERROR_SHARE)  # failed of 100 requests a second at the threshold


@pytest.mark.parametrize("failed, status", [(AT - 1, "ok"), (AT, "insufficient-data")])
def test_a_load_that_mostly_failed_is_not_priced(failed, status):
    """LOAD_ERROR_SHARE of the requests or more failed: no verdict, as doctor gives none
    (tests/analysis/test_traffic.py); just under it, one."""
    result = analyse([leaking()], timeline=load(ok=100 - failed, failed=failed))
    assert result["leaks"]["status"] == status
    if status != "ok":
        assert result["leaks"]["reason"] == "failed-load" and result["diagnosis"] is None
        assert f"{10 * failed:,} of 1,000 requests failed" in result["leaks"]["detail"]


def test_steady_but_small_growth_asks_for_a_longer_run():
    result = analyse([leaking(per_snapshot=1 << 10)], timeline=load())
    assert result["suspects"] == [] and result["diagnosis"] is None
    assert result["leaks"]["reason"] == "steady-but-small"
    assert "run the load longer" in result["leaks"]["detail"]


def test_without_a_load_the_window_is_the_captures_and_workers_add_up():
    result = analyse([leaking(pid=1), leaking(pid=2)])
    assert result["window"]["source"] == "capture" and result["window"]["requests"] is None
    (s,) = result["suspects"]
    assert s["growth_bytes"] == 2 * 40 * (64 << 10)
    assert result["peak"]["summed_over_processes"] is True
    assert [p["pid"] for p in result["series"]["processes"]] == [1, 2]


def test_no_readable_capture_is_an_error():
    broken = leaking()
    broken.error = "cannot read memray-4000.bin: truncated"
    with pytest.raises(PinkError, match=r"no readable memray capture: cannot read memray-4000\.bin"):
        analyse([broken])
