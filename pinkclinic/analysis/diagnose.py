"""Combine the analyzers' findings into one Diagnosis (``diagnosis.json``).

The verdict is the most severe issue. Two rules keep categories honest:
* a loop stalled by the collector is gc-pressure (the loop analyzer already
  leaves GC-overlapping stall time out);
* io-wait means "idle but slow"; when the event loop itself is stalled, that
  stall is the reason and io-wait is dropped.
"""

from __future__ import annotations

from typing import Any

from pinkclinic.analysis import gc, io_wait, loop, memory
from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import INSUFFICIENT, ISSUE, Finding
from pinkclinic.analysis.recommend import recommendation
from pinkclinic.jsonio import write_json
from pinkclinic.recording import Recording

SCHEMA_VERSION = 1
MIN_WINDOW_S = 1.0  # shorter load windows give insufficient-data
LOOP_CATEGORIES = ("loop-cpu", "loop-blocking-call")


def run_analyzers(data: RecordingData, extra: list[Finding] | None = None) -> list[Finding]:
    findings = [loop.analyse(data), gc.analyse(data), memory.analyse(data), io_wait.analyse(data)]
    return findings + list(extra or [])


def combine(rec: Recording, findings: list[Finding], data: RecordingData) -> dict[str, Any]:
    issues = [f for f in findings if f.status == ISSUE]
    if any(f.category in LOOP_CATEGORIES for f in issues):
        issues = [f for f in issues if f.category != "io-wait"]
    issues.sort(key=lambda f: -f.severity)
    for f in issues:
        f.recommendation = recommendation(rec, f.category, f.culprits[0].function if f.culprits else None)

    missing = sorted({m for f in findings for m in f.missing} | set(_missing_streams(rec, data)))
    w = data.window
    if issues:
        verdict, summary = issues[0].category, issues[0].summary
    elif w is None or w.duration < MIN_WINDOW_S or all(f.status == INSUFFICIENT for f in findings):
        verdict = "insufficient-data"
        why = [f.summary for f in findings if f.status == INSUFFICIENT]
        summary = "not enough data to diagnose: " + (why[0] if why else "the load window was too short")
    else:
        verdict, summary = "healthy", _healthy_summary(data)
    out_issues = [f.issue_dict() for f in issues]
    if verdict == "insufficient-data":
        out_issues = [{"category": verdict, "severity": 0.0, "summary": summary, "evidence": {},
                       "culprits": [], "recommendation": recommendation(rec, verdict, None)}]
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": verdict,
        "summary": summary,
        "recommendation": out_issues[0]["recommendation"] if out_issues else recommendation(rec, verdict, None),
        "issues": out_issues,
        "signals_missing": missing,
        "window": None if w is None else {"start": w.start, "end": w.end},
        "findings": [f.to_dict() for f in findings],
    }


def _missing_streams(rec: Recording, data: RecordingData) -> list[str]:
    out = []
    if rec.stream_file("processes") is None:
        out.append("cpu-memory")
    if rec.stream_file("pyspy") is None:
        out.append("stacks")
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
    return f"no issue found: the server is simply busy serving requests{tail}"


def diagnose(data: RecordingData) -> dict[str, Any]:
    """Analyse a recording (every analyzer, stack-based ones included) and write
    ``diagnosis.json`` into it."""
    from pinkclinic.analysis.stacks import stack_findings

    rec = data.rec
    diagnosis = combine(rec, run_analyzers(data, stack_findings(data)), data)
    write_json(rec.file("diagnosis.json"), diagnosis)
    return diagnosis
