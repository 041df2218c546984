"""GIL contention: in a threaded server, threads want to run but wait for the GIL.

py-spy counts a thread as busy whenever its leaf is not a known wait, which
includes a thread stalled in ``take_gil``. If a process's threads are busy
``B`` thread-seconds per second while the process uses only ``C`` cores, then
``B - C`` thread-seconds per second were spent waiting. With CPU near one core
(the GIL's ceiling) and several threads busy at once, that wait is the GIL.
"""

from __future__ import annotations

from collections import defaultdict

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import ISSUE, NONE, Finding, clamp01, insufficient
from pinkclinic.analysis.stacks import cpu_seconds, rate_hz, thread_summary

GIL_MIN_BUSY_THREADS = 1.5   # threads busy at once, on average
GIL_MIN_CPU = 0.6            # cores: the process is close to the GIL's one-core ceiling
GIL_WAIT_SHARE = 0.4         # share of busy thread time not spent on CPU
MIN_SPAN_S = 1.0


def analyse(data: RecordingData) -> Finding:
    if data.profile is None:
        return Finding(signal="gil", status=NONE, summary="no stack samples", missing=["stacks"])
    span = data.pyspy_span
    if span is None or span[1] - span[0] < MIN_SPAN_S:
        return insufficient("gil", "py-spy sampled for less than a second")
    seconds = span[1] - span[0]
    hz = rate_hz(data)
    busy: dict[int, float] = defaultdict(float)
    threads: dict[int, int] = defaultdict(int)
    for s in thread_summary(data).values():
        if s["pid"] is None:
            continue
        busy[s["pid"]] += s["busy"] / hz
        threads[s["pid"]] += 1 if s["busy"] / hz > 0.05 * seconds else 0
    rows = []
    for pid, busy_s in busy.items():
        cpu = cpu_seconds(data, pid, *span)
        if cpu is None:
            continue
        busy_threads, cores = busy_s / seconds, cpu / seconds
        wait_share = max(0.0, busy_threads - cores) / busy_threads if busy_threads else 0.0
        rows.append({"pid": pid, "busy_threads": round(busy_threads, 2), "cpu_cores": round(cores, 2),
                     "wait_share": round(wait_share, 3), "threads_busy": threads[pid]})

    def contended(r: dict) -> bool:
        return (r["busy_threads"] >= GIL_MIN_BUSY_THREADS and r["cpu_cores"] >= GIL_MIN_CPU
                and r["wait_share"] >= GIL_WAIT_SHARE)

    worst = max(rows, key=lambda r: (contended(r), r["wait_share"] * r["busy_threads"]), default=None)
    if worst is None:
        return insufficient("gil", "no CPU samples for the sampled processes")
    if not contended(worst):
        return Finding(signal="gil", status=NONE, evidence=worst,
                       summary=f"{worst['busy_threads']:.1f} threads busy on average at "
                               f"{worst['cpu_cores']:.2f} cores: no GIL contention")
    return Finding(signal="gil", status=ISSUE, category="gil-contention",
                   severity=clamp01(worst["wait_share"] * min(1.0, worst["busy_threads"] / 4)),
                   evidence=worst,
                   summary=f"{worst['busy_threads']:.1f} threads of PID {worst['pid']} wanted to run "
                           f"at once but the process used {worst['cpu_cores']:.2f} cores: "
                           f"{100 * worst['wait_share']:.0f}% of their time went to waiting for the GIL")
