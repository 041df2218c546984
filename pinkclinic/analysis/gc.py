"""Garbage-collection analysis: does the cyclic GC take a large share of the time?

From the probe's ``gc`` records (one per collection, or aggregated for short
ones). The culprit is the code whose allocation triggered the collections: the
stack of the thread that was running when the GC started.
"""

from __future__ import annotations

from collections import defaultdict

from pinkclinic.analysis.culprits import rank
from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import ISSUE, NONE, Finding, clamp01, insufficient

# Share of the load window spent in GC (in one process) that is an issue. Healthy
# servers measured here spend well under 1%; the gc sample spends 30-90%.
GC_SHARE_ISSUE = 0.05
# Clinic doctor's rule: >= 100 ms of blocking GC within any one-second window.
GC_WORST_SECOND_ISSUE_S = 0.10
GC_SHARE_FULL = 0.4  # share at which severity reaches 1
# Share of the event loop's stalled time spent in GC above which the collector is the
# root cause of the loop's stalls: gc-pressure then leads a loop verdict.
GC_LEADS_LOOP_SHARE = 0.5


def analyse(data: RecordingData) -> Finding:
    w = data.window
    if w is None or w.duration <= 0:
        return insufficient("gc", "no load window was recorded")
    if not data.has_probe:
        return Finding(signal="gc", status=NONE, summary="the in-process probe did not run",
                       missing=["gc"])
    per_pid: dict = defaultdict(float)
    per_second: dict = defaultdict(float)
    weighted = []
    collections = 0
    for g in data.probe.get("gc", []):
        t0 = g["t"]
        dur = g.get("dur_ms", 0.0) / 1000
        inside = w.overlap(t0, t0 + dur)
        if inside <= 0 and not w.contains(t0):
            continue
        collections += int(g.get("count", 1))
        per_pid[g.get("pid")] += inside
        per_second[(g.get("pid"), int(t0))] += inside
        if g.get("stack"):
            weighted.append((g["stack"], inside))
    if not per_pid:
        return Finding(signal="gc", status=NONE, summary="no garbage collection during the load",
                       evidence={"collections": 0})
    pid, gc_s = max(per_pid.items(), key=lambda kv: kv[1])
    share = gc_s / w.duration
    worst = max(per_second.values())
    evidence = {"gc_share": round(share, 4), "gc_s": round(gc_s, 3), "collections": collections,
                "worst_second_s": round(worst, 3), "pid": pid, "window_s": round(w.duration, 3)}
    if share < GC_SHARE_ISSUE and worst < GC_WORST_SECOND_ISSUE_S:
        return Finding(signal="gc", status=NONE, evidence=evidence,
                       summary=f"garbage collection took {100 * share:.1f}% of the time")
    culprits = rank(weighted)
    who = f", triggered by allocations in {culprits[0].function}()" if culprits else ""
    return Finding(signal="gc", status=ISSUE, category="gc-pressure",
                   severity=clamp01(max(share, worst) / GC_SHARE_FULL), evidence=evidence,
                   culprits=culprits,
                   summary=f"garbage collection took {100 * share:.0f}% of the time "
                           f"({collections} collections, up to {worst * 1000:.0f} ms in one second){who}")


def lead_over_loop(issues: list[Finding], loop_categories: tuple[str, ...]) -> list[Finding]:
    """``issues`` (most severe first) with gc-pressure first when the collector took most
    of the event loop's stalled time: the loop stalls are then the GC's, whatever the
    loop analyser made of the rest. The GC's share of the stalls is the loop thread's
    time in GC (the larger of the pauses inside stalls and, for the loop's own process,
    all its pauses) over that plus the loop's stalled time outside GC."""
    gc_issue = next((f for f in issues if f.category == "gc-pressure"), None)
    loop_issue = next((f for f in issues if f.category in loop_categories), None)
    if gc_issue is None or loop_issue is None:
        return issues
    ev = loop_issue.evidence
    in_gc = float(ev.get("stall_in_gc_s") or 0.0)
    if gc_issue.evidence.get("pid") == ev.get("loop_pid"):
        in_gc = max(in_gc, float(gc_issue.evidence.get("gc_s") or 0.0))
    stalled = in_gc + float(ev.get("stall_outside_gc_s") or 0.0)
    share = in_gc / stalled if stalled > 0 else 0.0
    gc_issue.evidence["share_of_loop_stalls"] = round(share, 4)
    if share > GC_LEADS_LOOP_SHARE:
        gc_issue.severity = max(gc_issue.severity, loop_issue.severity)
        issues = [gc_issue] + [f for f in issues if f is not gc_issue]
    if issues[0] is gc_issue and share > 0:  # the verdict says how much of the stalls it is
        gc_issue.summary += f"; it was {100 * share:.0f}% of the event loop's stalled time"
    return issues
