"""I/O-wait analysis: under load, the server is mostly idle while latency is high.

It waits on something outside: a slow backend, a small pool, a semaphore.
The culprit is where the waiting happens, when the probe or py-spy can see it:
suspended asyncio tasks (the probe's ``waits`` records) or threads blocked in
the user's code (py-spy samples).
"""

from __future__ import annotations

from pinkclinic.analysis.culprits import rank
from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import ISSUE, NONE, Finding, clamp01, insufficient
from pinkclinic.analysis.stacks import wait_stacks
from pinkclinic.analysis.stats import quantile

# Median latency (ms) above which an idle server is "slow". A hello-world answers
# in about 1-3 ms under this load on the test machine.
IO_LATENCY_P50_MS = 20.0
# The busiest process's p90 CPU (in cores) below which the server counts as idle.
# Clinic doctor flags p90 < 0.9 core; waiting servers here sit below 0.3.
IO_CPU_IDLE_P90 = 0.5
IO_LATENCY_FULL_MS = 500.0  # median latency at which severity reaches 1


def latency_p50(data: RecordingData) -> float | None:
    w = data.window
    rows = [r for r in data.load_timeline
            if r.get("requests") and (w is None or w.contains(r.get("t", 0) + 0.5))]
    if not rows:
        return None
    values = []
    for r in rows:  # weight each second's median by its request count (coarsely)
        values += [r.get("p50_ms", 0.0)] * max(1, min(100, int(r["requests"]) // 10))
    return quantile(values, 0.5)


def analyse(data: RecordingData) -> Finding:
    if not data.load_timeline:
        return insufficient("io", "no load was recorded by pinkclinic's load generator",
                            missing=["load"])
    usage = data.cpu
    p50 = latency_p50(data)
    if usage is None or p50 is None:
        return insufficient("io", "too few CPU or latency samples in the load window")
    evidence = {"latency_p50_ms": round(p50, 2), "cpu_busiest_p90": usage.busiest,
                "cpu_total_mean": usage.total_mean, "processes": len(usage.per_process)}
    if p50 < IO_LATENCY_P50_MS or usage.busiest >= IO_CPU_IDLE_P90:
        return Finding(signal="io", status=NONE, evidence=evidence,
                       summary=f"median latency {p50:.1f} ms with the busiest process at "
                               f"{100 * usage.busiest:.0f}% CPU")
    culprits = rank(wait_stacks(data))
    where = f"; requests wait in {culprits[0].function}()" if culprits else ""
    return Finding(signal="io", status=ISSUE, category="io-wait",
                   severity=clamp01(0.3 + 0.7 * p50 / IO_LATENCY_FULL_MS), evidence=evidence,
                   culprits=culprits,
                   summary=f"the server was mostly idle ({100 * usage.busiest:.0f}% CPU at p90) "
                           f"while the median latency was {p50:.0f} ms: it waits on something "
                           f"outside{where}")
