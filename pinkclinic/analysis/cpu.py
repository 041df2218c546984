"""CPU use of the target's processes during the load window (from the psutil sampler).

Not a category on its own: io-wait, gil-contention and the verdict text use it.
CPU is in cores (1.0 = one core fully busy), like clinic doctor's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.stats import quantile

MIN_SAMPLES = 5  # per process, inside the window


@dataclass
class CpuUsage:
    per_process: dict[int, dict[str, float]] = field(default_factory=dict)  # pid -> mean/p90 cores
    total_mean: float = 0.0
    samples: int = 0

    @property
    def busiest(self) -> float:
        """p90 of the busiest process, in cores."""
        return max((p["p90"] for p in self.per_process.values()), default=0.0)


def cpu_usage(data: RecordingData) -> CpuUsage | None:
    w = data.window
    if w is None:
        return None
    usage = CpuUsage()
    for pid, samples in data.processes.items():
        inside = [s for s in samples if w.start - 0.5 <= s["t"] <= w.end]
        rates = []
        for a, b in pairwise(inside):
            dt = b["t"] - a["t"]
            if dt <= 0 or b["t"] < w.start:
                continue
            used = (b["cpu_user_s"] + b["cpu_system_s"]) - (a["cpu_user_s"] + a["cpu_system_s"])
            rates.append(max(0.0, used / dt))
        if len(rates) < MIN_SAMPLES:
            continue
        usage.samples += len(rates)
        # mean over the window from the cumulative counters, robust to jittery ticks
        span = inside[-1]["t"] - inside[0]["t"]
        used = ((inside[-1]["cpu_user_s"] + inside[-1]["cpu_system_s"])
                - (inside[0]["cpu_user_s"] + inside[0]["cpu_system_s"]))
        mean = used / span if span > 0 else 0.0
        # smooth 10 ms ticks into ~100 ms steps before taking the p90
        step = max(1, len(rates) // max(1, int(span / 0.1)))
        smooth = [sum(rates[i:i + step]) / len(rates[i:i + step]) for i in range(0, len(rates), step)]
        usage.per_process[pid] = {"mean": round(mean, 3), "p90": round(quantile(smooth, 0.9), 3)}
        usage.total_mean += mean
    usage.total_mean = round(usage.total_mean, 3)
    return usage if usage.per_process else None
