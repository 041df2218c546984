"""Combine the analyzers' findings into one Diagnosis (``diagnosis.json``).

The verdict is the most severe issue. Five rules keep categories honest:
* a loop stalled by the collector is gc-pressure (the loop analyzer already
  leaves GC-overlapping stall time out, and when the GC took most of the loop's
  stalled time gc-pressure leads: :func:`.gc.lead_over_loop`);
* io-wait means "idle but slow"; when the event loop itself is stalled, that
  stall is the reason and the waits (io-wait, pool-exhausted, lock-contention) are
  dropped;
* threads waiting for a core because there were more of them than usable cores
  (:mod:`.saturation`) are not idle: io-wait is dropped. Cores held by other processes
  (``cpu-starved``) only add a warning: an event loop waiting on an upstream and one
  waiting for work look the same from outside;
* the task snapshots (:mod:`.waits_verdict`) say what requests wait on: their verdict
  replaces the io analyzer's guess from CPU and latency. When they see threads queue on a
  lock or a pool, gil-contention is dropped: a thread blocked in ``with lock:`` sits in a
  futex with its own code on top, which is how :mod:`.thread_time` tells a GIL wait.

Without an issue, the verdict is ``healthy`` only if the server was really exercised
(:mod:`.traffic`): no traffic, or a load that mostly failed, is ``insufficient-data``
with the reason (next to an issue, that reason is a warning). ``run`` repeats how the
run ended (the manifest's status), so a report or summary can say it.
"""

from __future__ import annotations

from typing import Any

from pinkclinic.analysis import (
    gc,
    gil,
    io_wait,
    loop,
    loop_stacks,
    memory,
    saturation,
    traffic,
    waits_verdict,
)
from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import INSUFFICIENT, ISSUE, Finding
from pinkclinic.analysis.recommend import insufficient_advice, recommendation
from pinkclinic.jsonio import write_json
from pinkclinic.profile.app_code import app_code
from pinkclinic.recording import Recording

DIAGNOSIS_FILE = "diagnosis.json"
SCHEMA_VERSION = 2  # of diagnosis.json, whichever command wrote it (doctor, heap, waits);
# 2: the categories pool-exhausted and lock-contention, and the waits finding
MIN_WINDOW_S = 1.0  # shorter load windows give insufficient-data
LOOP_CATEGORIES = ("loop-cpu", "loop-blocking-call")
WAIT_CATEGORIES = ("io-wait", "pool-exhausted", "lock-contention")
QUEUE_CATEGORIES = ("pool-exhausted", "lock-contention")


def run_analyzers(data: RecordingData) -> list[Finding]:
    """Every analyzer's findings, in this order (``diagnosis.json`` keeps it). The stack-based
    ones (GIL contention, loop stalls seen from outside) need py-spy's samples."""
    return [loop.analyse(data), gc.analyse(data), memory.analyse(data), io_wait.analyse(data),
            waits_verdict.analyse(data), traffic.analyse(data), gil.analyse(data),
            *loop_stacks.analyse(data), saturation.analyse(data)]


def combine(rec: Recording, findings: list[Finding], data: RecordingData) -> dict[str, Any]:
    issues = [f for f in findings if f.status == ISSUE]
    sat = next((f for f in findings if f.signal == "saturation"
                and (f.evidence.get("saturated") or f.evidence.get("starved"))), None)
    sat_category = (None if sat is None else
                    "cpu-saturation" if sat.evidence.get("saturated") else "cpu-starved")
    if any(f.category in LOOP_CATEGORIES for f in issues):
        issues = [f for f in issues if f.category not in WAIT_CATEGORIES]
    if any(f.signal == "waits" for f in issues):  # what requests wait on, seen from inside
        issues = [f for f in issues if f.signal != "io"]
    if any(f.category in QUEUE_CATEGORIES for f in issues):  # their futex time is that lock
        issues = [f for f in issues if f.category != "gil-contention"]
    if sat_category == "cpu-saturation":  # busy threads, not idle ones
        issues = [f for f in issues if f.category != "io-wait"]
    issues.sort(key=lambda f: -f.severity)
    issues = gc.lead_over_loop(issues, LOOP_CATEGORIES)
    for f in issues:
        f.recommendation = recommendation(rec, f.category, f.culprits[0].function if f.culprits else None)

    missing = sorted({m for f in findings for m in f.missing} | set(_missing_streams(rec, data)))
    w = data.window
    seen = next((f for f in findings if f.signal == "traffic"), None)
    no_traffic = seen is not None and seen.status == INSUFFICIENT
    warnings = [seen.summary] if issues and no_traffic else []
    others = [f for f in findings if f.signal != "traffic"]
    if issues:
        verdict, summary = issues[0].category, issues[0].summary
    elif (w is None or w.duration < MIN_WINDOW_S or no_traffic
          or all(_saw_nothing(f) for f in others)):
        verdict = "insufficient-data"
        if w is None or w.duration < MIN_WINDOW_S:
            why = ("no load window was recorded" if w is None else
                   f"the load window was {w.duration:.1f} s, shorter than {MIN_WINDOW_S:g} s")
            reason = "window"
        elif no_traffic:
            why, reason = seen.summary, "traffic"
        else:
            why = next((f.summary for f in others if f.status == INSUFFICIENT),
                       "no signal was recorded: " + ", ".join(missing))
            reason = "samples"
        summary = "not enough data to diagnose: " + why
    else:
        verdict, summary = "healthy", _healthy_summary(data)
    if sat is not None and verdict != "insufficient-data":
        sat.recommendation = recommendation(rec, sat_category,
                                            sat.culprits[0].function if sat.culprits else None)
        if verdict == "healthy":
            summary += "; " + sat.summary
        else:
            warnings.append(sat.summary)
    out_issues = [f.issue_dict() for f in issues]
    if verdict == "insufficient-data":
        out_issues = [{"category": verdict, "severity": 0.0, "summary": summary, "evidence": {},
                       "culprits": [], "recommendation": insufficient_advice(rec, reason)}]
    status = rec.manifest.get("status", {})
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": verdict,
        "summary": summary,
        "recommendation": (out_issues[0]["recommendation"] if out_issues else
                           sat.recommendation if sat is not None else recommendation(rec, verdict, None)),
        "saturation": (None if sat is None or verdict == "insufficient-data" else
                       {**sat.issue_dict(), "category": sat_category}),
        "issues": out_issues,
        "warnings": warnings,
        "signals_missing": missing,
        "window": None if w is None else {"start": w.start, "end": w.end},
        "run": {"outcome": status.get("outcome"), "detail": status.get("detail", "")},
        "findings": [f.to_dict() for f in findings],
    }


def _saw_nothing(f: Finding) -> bool:
    """The analyser could not judge: too few samples, or its signal was not recorded."""
    return f.status == INSUFFICIENT or (f.status != ISSUE and bool(f.missing))


def _missing_streams(rec: Recording, data: RecordingData) -> list[str]:
    out = []
    if rec.stream_file("processes") is None:
        out.append("cpu-memory")
    if rec.stream_file("pyspy") is None:
        out.append("stacks")
    if not data.has_probe:  # attached, or the probe did not load: no in-process signals
        out.append("tasks")
    if not data.load_timeline and not rec.manifest.get("options", {}).get("no_load"):
        out.append("load")
    return out


def _healthy_summary(data: RecordingData) -> str:
    usage = data.cpu
    res = data.load_result or {}
    rps = (res.get("requests") or {}).get("average")
    p99 = (res.get("latency") or {}).get("p99")
    parts = []
    if rps:
        parts.append(f"{rps:,.0f} req/s")
    if p99 is not None:
        parts.append(f"p99 {p99:.1f} ms")
    if usage:
        parts.append(f"busiest process at {100 * usage.busiest:.0f}% CPU")
    tail = f" ({', '.join(parts)})" if parts else ""
    outcome = data.rec.manifest.get("status", {}).get("outcome")
    if outcome not in (None, "completed") and data.window is not None:
        return (f"no issue found in the {data.window.duration:.1f} s recorded before the run "
                f"ended early{tail}")
    return f"no issue found: the server is simply busy serving requests{tail}"


def diagnose(data: RecordingData) -> dict[str, Any]:
    """Analyse a recording (every analyzer, stack-based ones included) and write
    ``diagnosis.json`` into it."""
    rec = data.rec
    with app_code(data.app_modules):
        diagnosis = combine(rec, run_analyzers(data), data)
    write_json(rec.file(DIAGNOSIS_FILE), diagnosis)
    return diagnosis
