"""Heap analysis of a ``*.pinkclinic-heap`` recording folder.

Reads the memray captures (``memray-<PID>.bin``, ``memray-<PID>.bin.<CHILD>``), the
load timeline (``load.jsonl``) and the window from ``manifest.json``; writes the
result to ``heap.json`` and the issue to ``diagnosis.json`` (doctor's schema).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from pinkclinic.errors import PinkError
from pinkclinic.heap.analyse import analyse
from pinkclinic.heap.capture import MAX_SNAPSHOTS, find_captures
from pinkclinic.jsonio import read_jsonl, write_json
from pinkclinic.recording import Recording

RESULT_FILE = "heap.json"
DIAGNOSIS_FILE = "diagnosis.json"
DIAGNOSIS_SCHEMA_VERSION = 1


def window_of(rec: Recording) -> tuple[float, float] | None:
    """The load window from the manifest, else the time the server was up and listening."""
    timings = rec.manifest.get("timings", {})
    for a, b in (("load_start", "load_end"), ("listening", "stopping"), ("listening", "stopped")):
        t0, t1 = timings.get(a), timings.get(b)
        if isinstance(t0, (int, float)) and isinstance(t1, (int, float)) and t1 > t0:
            return float(t0), float(t1)
    return None


def load_ticks(rec: Recording) -> list[dict]:
    path = rec.stream_file("load") or (rec.path / "load.jsonl")
    if not Path(path).is_file():
        return []
    return [r for r in read_jsonl(path) if "t" in r and "requests" in r]


def analyse_recording(path: str | os.PathLike, *, write: bool = True,
                      max_snapshots: int = MAX_SNAPSHOTS) -> dict:
    """Analyse a recording folder; with ``write``, save ``heap.json`` and ``diagnosis.json``."""
    rec = Recording.open(path)
    captures = find_captures(rec.path)
    if not captures:
        raise PinkError(f"{rec.path} has no memray capture (memray-<PID>.bin); "
                        "the target may have exited before memray started")
    command = rec.manifest.get("command") or []
    result = analyse(captures, window=window_of(rec), requests=load_ticks(rec) or None,
                     command=shlex.join(command) if command else "",
                     root=rec.manifest.get("cwd"), max_snapshots=max_snapshots)
    if write:
        write_json(rec.path / RESULT_FILE, result)
        write_json(rec.path / DIAGNOSIS_FILE, diagnosis_document(result))
    return result


def diagnosis_document(result: dict) -> dict:
    """``diagnosis.json`` for a heap recording: a memory-leak issue, or healthy / insufficient."""
    issue = result.get("diagnosis")
    leaks = result.get("leaks", {})
    if issue:
        return {"schema_version": DIAGNOSIS_SCHEMA_VERSION, "verdict": "memory-leak",
                "summary": issue["summary"], "issues": [issue], "signals_missing": []}
    if leaks.get("status") == "insufficient-data":
        return {"schema_version": DIAGNOSIS_SCHEMA_VERSION, "verdict": "insufficient-data",
                "summary": leaks.get("detail", ""), "issues": [],
                "signals_missing": ["memory-growth"]}
    missing = [] if result.get("window", {}).get("requests") else ["load-timeline"]
    return {"schema_version": DIAGNOSIS_SCHEMA_VERSION, "verdict": "healthy",
            "summary": "no allocation site grew steadily during the load",
            "issues": [], "signals_missing": missing}
