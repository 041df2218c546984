"""CPU from the sampler's counters: rates over timelines with the irregularities a busy
machine gives, CPU seconds over a span, and the use per process in a window."""

import pytest

from pinkclinic.analysis.cpu import (
    MIN_SAMPLES,
    MIN_SPAN,
    RATE_STEP_S,
    cpu_rates,
    cpu_seconds,
    cpu_usage,
)
from pinkclinic.window import Window

TICK = 0.01  # the kernel's CPU clock tick


def timeline(times, cores=1.0):
    """Samples of a process busy at ``cores``, its counter truncated to 10 ms ticks."""
    return [{"t": t, "cpu_user_s": int(cores * t / TICK) * TICK, "cpu_system_s": 0.0} for t in times]


def test_a_stalled_sampler_never_reads_more_than_the_machine():
    # every 10 ms, then a stall: bin 2's last sample is 3 ms after bin 1's
    times = [round(0.005 + 0.01 * i, 4) for i in range(20)] + [0.201, 0.35, 0.42, 0.51, 0.61]
    rates = cpu_rates(timeline(times, cores=1.9))
    assert rates and all(v <= 1.9 + TICK / (MIN_SPAN * RATE_STEP_S) + 1e-9 for _, v in rates), rates
    # bins whose last sample is 6 ms (0.201) or 70 ms (0.42) after the last point's have
    # no point; the next one spans both
    assert [round(t, 2) for t, _ in rates] == [0.15, 0.35, 0.55, 0.65]


def test_regular_samples_give_one_point_per_bin():
    times = [round(0.003 + 0.01 * i, 4) for i in range(100)]
    rates = cpu_rates(timeline(times, cores=0.5))
    assert len(rates) == 9
    assert all(abs(v - 0.5) <= 0.11 for _, v in rates), rates


def test_cpu_seconds_over_a_span():
    samples = timeline([round(0.005 + 0.01 * i, 4) for i in range(200)], cores=0.5)
    # from the first to the last sample within 50 ms of the span's edges: 1.1 s at 0.5 cores
    assert cpu_seconds(samples, 0.5, 1.5) == pytest.approx(0.55, abs=0.02)
    assert cpu_seconds(samples, 5.0, 6.0) is None  # no samples there


def test_cpu_usage_per_process_in_the_window():
    times = [round(0.005 + 0.01 * i, 4) for i in range(300)]
    procs = {1: timeline(times, cores=0.8), 2: timeline(times, cores=0.1), 3: timeline(times[:3])}
    usage = cpu_usage(procs, Window(0.5, 2.5), cpu_count=2)
    assert sorted(usage.per_process) == [1, 2]  # too few samples of 3 in the window
    assert usage.per_process[1]["mean"] == pytest.approx(0.8, abs=0.02)
    assert usage.busiest == pytest.approx(0.8, abs=0.11)
    assert usage.total_mean == pytest.approx(0.9, abs=0.03)
    assert cpu_usage(procs, None, cpu_count=2) is None


@pytest.mark.parametrize("points", [MIN_SAMPLES - 1, MIN_SAMPLES])
def test_a_process_needs_min_samples_rate_steps_in_the_window(points):
    """Samples every 10 ms up to the end of the window's ``points``-th 100 ms step: with
    fewer than MIN_SAMPLES steps the process has no CPU figure (not a zero)."""
    start = 0.5
    last_bin = round(start / RATE_STEP_S) + points - 1
    times = [round(0.003 + 0.01 * i, 4) for i in range(10 * (last_bin + 1))]
    procs = {1: timeline(times, cores=0.5)}
    w = Window(start, 5.0)
    assert len([t for t, _ in cpu_rates(timeline(times)) if t >= start]) == points
    usage = cpu_usage(procs, w, cpu_count=2)
    if points < MIN_SAMPLES:
        assert usage is None
    else:
        assert usage.per_process[1]["mean"] == pytest.approx(0.5, abs=0.05)
