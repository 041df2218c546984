"""Heap analysis of a ``*.pinkclinic-heap`` recording folder.

Reads the memray captures (``memray-<PID>.bin``, ``memray-<PID>.bin.<CHILD>``), the
load timeline (``load.jsonl``), the load window (:mod:`pinkclinic.window`) and the probe
files' headers (to see forked workers that ran without a capture); writes the result to
``heap.json`` and the verdict to ``diagnosis.json``, in doctor's schema: top-level
``verdict``, ``summary``, ``recommendation``, ``issues`` (one ``memory-leak`` issue,
or one ``insufficient-data`` issue saying what to change), ``signals_missing``,
``window`` and ``findings`` (the heap analyzer's one finding).
"""

from __future__ import annotations

import os
import shlex

from pinkclinic.analysis.diagnose import DIAGNOSIS_FILE
from pinkclinic.analysis.diagnose import SCHEMA_VERSION as DIAGNOSIS_SCHEMA_VERSION
from pinkclinic.analysis.recommend import next_command
from pinkclinic.errors import PinkError
from pinkclinic.heap.analyse import analyse
from pinkclinic.heap.capture import MAX_SNAPSHOTS, find_captures, pid_of
from pinkclinic.heap.insufficient import failed_share, status_counts, untracked_workers
from pinkclinic.jsonio import write_json
from pinkclinic.probe import probe_headers
from pinkclinic.recording import HEAP_RESULT, Recording
from pinkclinic.window import load_window

RESULT_FILE = HEAP_RESULT
NOTE_FAILED_SHARE = 0.05   # a smaller share of failed requests is not worth a word


def window_of(rec: Recording) -> tuple[float, float] | None:
    """The load window (:func:`pinkclinic.window.load_window`), untrimmed."""
    w = load_window(rec.manifest.get("timings", {}))
    return (float(w.start), float(w.end)) if w is not None and w.end > w.start else None


def load_ticks(rec: Recording) -> list[dict]:
    return [r for r in rec.read_stream("load") if "t" in r and "requests" in r]


def analyse_recording(path: str | os.PathLike, *, write: bool = True,
                      max_snapshots: int = MAX_SNAPSHOTS) -> dict:
    """Analyse a recording folder; with ``write``, save ``heap.json`` and ``diagnosis.json``."""
    rec = Recording.open(path)
    captures = find_captures(rec.path)
    if not captures:
        status = rec.manifest.get("status", {})
        why = status.get("detail") if status.get("outcome") == "error" else None
        raise PinkError(f"{rec.path} has no memray capture (memray-<PID>.bin): " +
                        (why or "the target may have exited before memray started"))
    command = rec.manifest.get("command") or []
    result = analyse(captures, window=window_of(rec), requests=load_ticks(rec) or None,
                     command=shlex.join(command) if command else "",
                     root=rec.manifest.get("cwd"), rerun=next_command(rec, "heap"),
                     max_snapshots=max_snapshots)
    follow = bool(rec.manifest.get("options", {}).get("extra", {}).get("follow_fork", True))
    children = probe_headers(rec.path)
    children.update({int(p): {"forked": True} for p in rec.manifest.get("untracked_workers", [])})
    untracked = untracked_workers(children, {pid_of(p) for p in captures}, follow_fork=follow)
    if untracked is not None:  # what the workers kept is missing: no verdict either way
        result["diagnosis"] = None
        result["leaks"].update(status="insufficient-data", reason="untracked-workers",
                               detail=untracked)
    if write:
        write_json(rec.path / RESULT_FILE, result)
        write_json(rec.path / DIAGNOSIS_FILE, diagnosis_document(result, rec))
    return result


def _recommendation(rec: Recording | None, verdict: str, reason: str | None) -> str:
    again = next_command(rec, "heap") if rec is not None else "pinkclinic heap -- CMD"
    if verdict != "insufficient-data":
        return ("Nothing kept growing with the requests. To see where memory goes at the "
                "peak, read the allocation flame graph in the report.")
    if reason == "untracked-workers":
        return f"Track the workers too (--follow-fork, the default): {again}"
    if reason == "failed-load":
        return f"Make the load's requests succeed (check target.log), then rerun: {again}"
    return f"Run a longer or heavier load, e.g. --load '-c 20 -d 20 /PATH': {again}"


def diagnosis_document(result: dict, rec: Recording | None = None) -> dict:
    """``diagnosis.json`` for a heap recording: a memory-leak issue, or healthy / insufficient."""
    issue = result.get("diagnosis")
    leaks = result.get("leaks", {})
    w = result.get("window") or {}
    load = result.get("load")
    missing = [] if w.get("requests") is not None else ["load-timeline"]
    if issue:
        verdict, summary = "memory-leak", issue["summary"]
        issues = [issue]
    elif leaks.get("status") == "insufficient-data":
        verdict, summary = "insufficient-data", "not enough data to judge: " + leaks.get("detail", "")
        issues = [{"category": verdict, "severity": 0.0, "summary": summary, "evidence": {},
                   "culprits": [],
                   "recommendation": _recommendation(rec, verdict, leaks.get("reason"))}]
        missing.append("memory-growth")
    else:
        during = "during the load" if w.get("requests") else "during the recording"
        verdict, summary = "healthy", f"no allocation site grew steadily {during}"
        issues = []
    share = failed_share(load)
    if share > NOTE_FAILED_SHARE and verdict != "insufficient-data":
        summary += (f" (note: {load['failed']:,} of {load['attempts']:,} requests failed: "
                    f"{status_counts(load)})")
    recommendation = issues[0]["recommendation"] if issues else _recommendation(rec, verdict, None)
    finding = {"signal": "heap", "status": {"memory-leak": "issue", "healthy": "none"}.get(
                   verdict, verdict),
               "category": "memory-leak" if issue else None,
               "severity": issue["severity"] if issue else 0.0, "summary": summary,
               "evidence": {"window": w, "load": load, "leaks": leaks.get("status"),
                            "reason": leaks.get("reason"),
                            "suspects": len(result.get("suspects", [])),
                            "steady_small": result.get("steady_small", [])},
               "culprits": issue["culprits"] if issue else [], "missing": missing}
    return {"schema_version": DIAGNOSIS_SCHEMA_VERSION, "verdict": verdict,
            "summary": summary, "recommendation": recommendation, "issues": issues,
            "signals_missing": sorted(set(missing)),
            "window": {"start": w["start"], "end": w["end"]} if w.get("start") else None,
            "findings": [finding]}
