"""Event-loop stalls seen from outside, for attached targets (no in-process probe).

A loop thread is one whose stacks pass through asyncio's or uvloop's run loop.
Its utilisation is the share of its py-spy samples that are not the loop
waiting in its selector. A loop that is busy most of the time *in the user's
code* is stalled by that code; whether it stalls on CPU or in a blocking call
comes from comparing the process's CPU time with the loop's busy time. Only the
load window's samples count (``RecordingData.window_profile``).
"""

from __future__ import annotations

from pinkclinic.analysis.cpu import cpu_seconds
from pinkclinic.analysis.culprits import is_app_file, rank
from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import ISSUE, NONE, Finding, clamp01
from pinkclinic.analysis.stacks import frames_of, thread_summary

LOOP_BUSY_ISSUE = 0.6   # the loop thread is busy in >= 60% of its samples...
LOOP_APP_SHARE = 0.5    # ... and >= 50% of that busy time is in the user's own functions
ON_CPU_SHARE_CPU = 0.5  # CPU time / busy time above which the stalls are CPU work


def analyse(data: RecordingData) -> list[Finding]:
    if data.has_probe or data.window_profile is None:
        return []
    loops = [s for s in thread_summary(data).values() if s["loop"]]
    if not loops:
        return []
    worst = max(loops, key=lambda s: s["busy"] / max(1e-9, s["busy"] + s["idle"]))
    total = worst["busy"] + worst["idle"]
    busy_share = worst["busy"] / total if total else 0.0
    p = data.window_profile
    culprits = rank([(frames_of(p, f), w) for f, w in worst["stacks"]])
    app_share = sum(c.share for c in culprits if is_app_file(c.file))
    evidence = {"loop_busy_share": round(busy_share, 3), "app_share_of_busy": round(app_share, 3),
                "loop_pid": worst["pid"], "loop_thread_id": worst["tid"], "source": "py-spy"}
    if busy_share < LOOP_BUSY_ISSUE or app_share < LOOP_APP_SHARE:
        return [Finding(signal="loop-stacks", status=NONE, evidence=evidence,
                        summary=f"the event loop was busy {100 * busy_share:.0f}% of the time, "
                                "mostly in framework code")]
    span = data.stack_span
    cpu = cpu_seconds(data.processes.get(worst["pid"], []), *span) if span else None
    on_cpu = (cpu / (span[1] - span[0])) / busy_share if cpu is not None and span else None
    evidence["on_cpu_share"] = None if on_cpu is None else round(min(on_cpu, 1.0), 3)
    is_cpu = on_cpu is None or on_cpu >= ON_CPU_SHARE_CPU
    who = culprits[0].function  # the user's code (rank lists no other beside it)
    if is_cpu:
        summary = (f"CPU-heavy code in {who}() kept the event loop busy "
                   f"{100 * busy_share:.0f}% of the time (seen by py-spy)")
    else:
        summary = (f"a blocking call in {who}() held the event loop {100 * busy_share:.0f}% of "
                   "the time while the process was mostly off-CPU (seen by py-spy)")
    return [Finding(signal="loop-stacks", status=ISSUE,
                    category="loop-cpu" if is_cpu else "loop-blocking-call",
                    severity=clamp01(busy_share * app_share * 1.5), summary=summary,
                    evidence=evidence, culprits=culprits)]
