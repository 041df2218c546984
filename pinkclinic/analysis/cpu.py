"""CPU use of the target's processes (from the psutil sampler's ``processes.jsonl``).

Not a category on its own: io-wait, gil-contention and the verdict text use it.
CPU is in cores (1.0 = one core fully busy), like clinic doctor's. Functions of the
samples themselves: :class:`~pinkclinic.analysis.data.RecordingData` gives them the
recording's (``RecordingData.cpu``).

Rates are always a difference of the cumulative CPU counters over a difference of
time, over intervals of at least :data:`RATE_STEP_S`: the kernel counts CPU time in
10 ms ticks, so a rate over two samples a millisecond apart could read 10 cores.
Two bins' last samples can be that close when the sampler stalled (a busy 2-core
machine), so a bin whose last sample is less than :data:`MIN_SPAN` of a step after the
previous point's gives no point of its own: the next bin's rate spans both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pinkclinic.analysis.stats import quantile
from pinkclinic.window import Window

MIN_SAMPLES = 5  # rate steps per process, inside the window
RATE_STEP_S = 0.1
MIN_SPAN = 0.8  # of a step: one 10 ms tick over 80 ms is at most 0.125 cores of error


def cpu_time(s: dict) -> float:
    """The CPU seconds a process had used by the time of sample ``s`` (user + system)."""
    return s["cpu_user_s"] + s["cpu_system_s"]


def cpu_seconds(samples: list[dict], t0: float, t1: float) -> float | None:
    """CPU seconds used between t0 and t1, from one process's samples in time order."""
    inside = [s for s in samples if t0 - 0.05 <= s["t"] <= t1 + 0.05]
    if len(inside) < 2:
        return None
    return max(0.0, cpu_time(inside[-1]) - cpu_time(inside[0]))


def cpu_rates(samples: list[dict], step: float = RATE_STEP_S,
              ceiling: float | None = None) -> list[tuple[float, float]]:
    """[(t, cores)] for consecutive bins of ``step`` seconds: each is the CPU used since
    the last sample of the previous point's bin, over the time since then (the point sits
    in the middle of its bin), over at least ``MIN_SPAN`` of a step. ``ceiling`` (the
    machine's cores) caps what tick rounding adds."""
    out: list[tuple[float, float]] = []
    last_of_bin: dict[int, dict] = {}
    for s in samples:
        last_of_bin[int(s["t"] // step)] = s
    prev = None
    for k in sorted(last_of_bin):
        s = last_of_bin[k]
        if prev is not None:
            if s["t"] - prev["t"] < MIN_SPAN * step:
                continue
            rate = max(0.0, (cpu_time(s) - cpu_time(prev)) / (s["t"] - prev["t"]))
            out.append((k * step + step / 2, rate if ceiling is None else min(rate, ceiling)))
        prev = s
    return out


@dataclass
class CpuUsage:
    per_process: dict[int, dict[str, float]] = field(default_factory=dict)  # pid -> mean/p90 cores
    total_mean: float = 0.0
    samples: int = 0

    @property
    def busiest(self) -> float:
        """p90 of the busiest process, in cores."""
        return max((p["p90"] for p in self.per_process.values()), default=0.0)


def cpu_usage(processes: dict[int, list[dict]], w: Window | None,
              cpu_count: int) -> CpuUsage | None:
    """CPU use per process (pid -> samples in time order) in the window ``w``, rates
    capped at the machine's ``cpu_count`` cores."""
    if w is None:
        return None
    usage = CpuUsage()
    for pid, samples in processes.items():
        inside = [s for s in samples if w.start - RATE_STEP_S <= s["t"] <= w.end]
        rates = [r for t, r in cpu_rates(inside, ceiling=cpu_count) if t >= w.start]
        if len(rates) < MIN_SAMPLES:
            continue
        usage.samples += len(rates)
        # the mean over the window from the cumulative counters
        span = inside[-1]["t"] - inside[0]["t"]
        mean = (cpu_time(inside[-1]) - cpu_time(inside[0])) / span if span > 0 else 0.0
        usage.per_process[pid] = {"mean": round(mean, 3), "p90": round(quantile(rates, 0.9), 3)}
        usage.total_mean += mean
    usage.total_mean = round(usage.total_mean, 3)
    return usage if usage.per_process else None
