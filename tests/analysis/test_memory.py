"""The memory-leak analyser: each condition of a leak from both sides, and too little data."""

import math

import pytest

from pinkclinic.analysis import memory
from pinkclinic.analysis.finding import INSUFFICIENT, ISSUE, NONE
from pinkclinic.window import EDGE_TRIM_S
from tests.synth import Synth

MB = 1 << 20


def mem_rec(tmp_path, rss, *, load_s=10.0, interval=0.02, rps=100):
    s = Synth(tmp_path, load_s=load_s)
    s.processes(rss=rss, interval=interval)
    s.load(rps=rps)
    return s


def linear(start, total, s=None):
    """RSS from ``start`` growing by ``total`` bytes over the analysed window."""
    span = 9.6 if s is None else s
    return lambda t: start + total * (t - 0.2) / span


def test_steady_growth_is_a_leak_priced_per_request(tmp_path):
    f = memory.analyse(mem_rec(tmp_path, linear(40 * MB, 20 * MB)).data())
    assert f.status == ISSUE and f.category == "memory-leak"
    assert f.evidence["growth_bytes"] == pytest.approx(20 * MB, rel=0.02)
    assert f.evidence["bytes_per_second"] == pytest.approx(20 * MB / 9.6, rel=0.01)
    assert f.evidence["r2"] == 1.0 and f.evidence["tail_ratio"] == pytest.approx(1.0, abs=0.01)
    # 100 req/s; the seconds whose middle is in the window (t0 + 0.5 ... t0 + 9.5: 10)
    assert f.evidence["requests"] == 1000
    assert f.evidence["bytes_per_request"] == pytest.approx(20 * MB / 1000, rel=0.02)


def test_growth_over_few_requests_is_a_weaker_finding_that_says_why(tmp_path):
    """The same steady growth over 100 requests (a thread pool warming up grows like this)
    against 1000: still an issue, with a fifth of the severity and a reason."""
    many = memory.analyse(mem_rec(tmp_path / "many", linear(40 * MB, 20 * MB), rps=100).data())
    few = memory.analyse(mem_rec(tmp_path / "few", linear(40 * MB, 20 * MB), rps=10).data())
    assert many.status == few.status == ISSUE
    assert few.evidence["requests"] == 100 and many.evidence["requests"] == 1000
    assert few.severity == pytest.approx(many.severity * 100 / memory.LEAK_FULL_REQUESTS, abs=0.002)
    assert "over only 100 requests" in few.summary and "requests:" not in many.summary


@pytest.mark.parametrize("side, status", [(0.97, NONE), (1.03, ISSUE)])
def test_minimum_growth_in_bytes(tmp_path, side, status):
    total = memory.LEAK_MIN_BYTES * side
    f = memory.analyse(mem_rec(tmp_path, linear(20 * MB, total)).data())  # 5% of 20 MB is 1 MB
    assert f.evidence["growth_bytes"] == pytest.approx(total, rel=0.01)
    assert f.status == status


@pytest.mark.parametrize("side, status", [(0.97, NONE), (1.03, ISSUE)])
def test_minimum_growth_relative_to_the_start(tmp_path, side, status):
    start = 400 * MB
    total = memory.LEAK_MIN_FRACTION * start * side  # 20 MB: far above the 4 MiB floor
    f = memory.analyse(mem_rec(tmp_path, linear(start, total)).data())
    assert f.evidence["growth_bytes"] / f.evidence["rss_start"] == pytest.approx(
        memory.LEAK_MIN_FRACTION * side, rel=0.01)
    assert f.status == status


def noisy(start, total, r2):
    """Linear growth plus a square wave (alternating every 100 ms bin) sized so that the
    fit's r2 is about ``r2``: var(trend) / (var(trend) + amplitude^2)."""
    slope = total / 9.6
    amp = math.sqrt(slope ** 2 * 9.6 ** 2 / 12 * (1 / r2 - 1))
    return lambda t: start + slope * t + (amp if round(t * 10) % 2 else -amp)


@pytest.mark.parametrize("side, status", [(0.95, NONE), (1.05, ISSUE)])
def test_growth_must_be_steady(tmp_path, side, status):
    r2 = min(0.99, memory.LEAK_R2 * side)
    f = memory.analyse(mem_rec(tmp_path, noisy(40 * MB, 20 * MB, r2), interval=0.1).data())
    assert f.evidence["r2"] == pytest.approx(r2, abs=0.02)
    assert (f.evidence["r2"] >= memory.LEAK_R2) == (status == ISSUE)
    assert f.status == status


def levelling(start, total, tail_ratio):
    """Growth whose last third (of the analysed window) grows at ``tail_ratio`` of the rate of
    the first two thirds."""
    cut = 0.2 + 9.6 * 2 / 3
    fast = total / (9.6 * 2 / 3 + tail_ratio * 9.6 / 3)
    return lambda t: start + fast * min(t - 0.2, cut - 0.2) + fast * tail_ratio * max(0.0, t - cut)


def slower_for(ratio):
    """The tail rate (of the first two thirds' rate) whose ratio to the fitted overall slope
    is ``ratio``: on [0, 1] the least-squares slope of that shape is (20 + 7 r) / 27."""
    return 20 * ratio / (27 - 7 * ratio)


@pytest.mark.parametrize("side, status", [(0.95, NONE), (1.05, ISSUE)])
def test_growth_must_not_level_off(tmp_path, side, status):
    """The last third must still grow at LEAK_TAIL_RATIO of the overall (fitted) rate."""
    ratio = memory.LEAK_TAIL_RATIO * side
    f = memory.analyse(mem_rec(tmp_path, levelling(40 * MB, 20 * MB, slower_for(ratio))).data())
    assert f.evidence["tail_ratio"] == pytest.approx(ratio, abs=0.01)
    assert f.evidence["r2"] >= memory.LEAK_R2  # only the tail decides
    assert f.status == status


def test_memory_that_goes_down_or_stays_flat_is_no_leak(tmp_path):
    for i, rss in enumerate([40 * MB, linear(80 * MB, -20 * MB)]):
        f = memory.analyse(mem_rec(tmp_path / str(i), rss).data())
        assert f.status == NONE and "did not grow steadily" in f.summary


def test_the_tree_is_summed_and_an_exited_process_leaves_it(tmp_path):
    """Two workers growing 3 MB each are a 6 MB leak of the tree; a worker that exits
    mid-window takes its memory with it (no leak, though the other one grows a little)."""
    s = Synth(tmp_path / "a")
    s.processes(pid=100, rss=linear(20 * MB, 3 * MB))
    s.processes(pid=101, ppid=100, rss=linear(20 * MB, 3 * MB))
    s.load()
    f = memory.analyse(s.data())
    assert f.status == ISSUE and f.evidence["growth_bytes"] == pytest.approx(6 * MB, rel=0.02)

    s = Synth(tmp_path / "b")
    s.processes(pid=100, rss=linear(20 * MB, 1 * MB))
    s.processes(pid=101, ppid=100, rss=30 * MB, end=s.t0 + 5, exit_at=s.t0 + 5)
    s.load()
    f = memory.analyse(s.data())
    assert f.status == NONE and f.evidence["rss_end"] < 22 * MB


@pytest.mark.parametrize("side, status", [(-0.1, INSUFFICIENT), (0.1, ISSUE)])
def test_the_window_must_be_long_enough(tmp_path, side, status):
    """MIN_WINDOW_S of analysed window (the load less EDGE_TRIM_S at each edge), give or
    take 0.1 s."""
    span = memory.MIN_WINDOW_S + side
    s = mem_rec(tmp_path, linear(20 * MB, 8 * MB, span), load_s=span + 2 * EDGE_TRIM_S)
    assert s.w1 - s.w0 == pytest.approx(span)
    assert memory.analyse(s.data()).status == status


@pytest.mark.parametrize("points", [memory.MIN_POINTS - 1, memory.MIN_POINTS])
def test_too_few_samples(tmp_path, points):
    """``points`` RSS samples in the window, more than BIN_S apart (one sample before it)."""
    s = Synth(tmp_path, load_s=3.0)
    step = (s.w1 - s.w0 - 0.002) / (points - 1)
    assert step > memory.BIN_S
    first = s.w0 + 0.001
    s.processes(rss=linear(20 * MB, 8 * MB, s.w1 - s.w0), interval=step, start=first - step,
                end=first + (points - 1) * step + 1e-6)
    s.load(rps=100)
    f = memory.analyse(s.data())
    if points < memory.MIN_POINTS:
        assert f.status == INSUFFICIENT and f.evidence["points"] == points
    else:
        assert f.status == ISSUE


@pytest.mark.parametrize("side", [-1, 1])
def test_fewer_than_leak_full_requests_scale_the_severity(tmp_path, side):
    """Just under LEAK_FULL_REQUESTS requests in the window, the finding is scaled down and
    says why; just over, it is as strong as over many more."""
    many = memory.analyse(mem_rec(tmp_path / "many", linear(40 * MB, 20 * MB), rps=100).data())
    rps = memory.LEAK_FULL_REQUESTS / 10 + side  # 10 seconds of load in the window
    f = memory.analyse(mem_rec(tmp_path / "few", linear(40 * MB, 20 * MB), rps=rps).data())
    requests = f.evidence["requests"]
    assert requests == 10 * rps and f.status == ISSUE
    if side < 0:
        assert f.severity == pytest.approx(many.severity * requests / memory.LEAK_FULL_REQUESTS, abs=0.002)
        assert f"over only {requests} requests" in f.summary
    else:
        assert f.severity == many.severity and "over only" not in f.summary
