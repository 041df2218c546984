"""The waits report: one self-contained HTML file from ``waits.json`` and
``diagnosis.json``: how request time splits, the wait sites as bubbles linked along
their await chains (click one for its chains with source lines, its resource and its
waiters over time), a flame graph of the logical (task) stacks in wall time coloured by
kind of wait, and the task tree at the busiest snapshot.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Any

from pinkclinic.analysis.culprits import is_app_file
from pinkclinic.analysis.sources import CONTEXT
from pinkclinic.analysis.waits import threads_only
from pinkclinic.jsonio import read_json
from pinkclinic.recording import Recording
from pinkclinic.render import render
from pinkclinic.render.doctor import LABELS

KIND_COLOURS = {"socket": "#3b82f6", "sleep": "#60a5fa", "lock": "#dc2626",
                "semaphore": "#f97316", "queue": "#f59e0b", "executor": "#a855f7",
                "condition": "#eab308", "event": "#14b8a6", "ready": "#6b7280",
                "cpu": "#374151", "task": "#94a3b8", "other": "#cbd5e1"}


def _snippet(files: dict[str, Any], path: str, line: int) -> list[list]:
    if not is_app_file(path):  # the user's frames only: the rest is library code
        return []
    lines = files.get(path, {})
    return [[n, lines[str(n)], n == line] for n in range(max(1, line - CONTEXT), line + CONTEXT + 1)
            if str(n) in lines]


def _with_sources(rec: Recording, waits: dict[str, Any]) -> list[dict[str, Any]]:
    src = rec.file("sources.json")
    files = read_json(src).get("files", {}) if src.exists() else {}
    sites = []
    for s in waits.get("sites", [])[:30]:
        chains = []
        for ch in s.get("stacks", [])[:4]:
            frames = [{"function": f[0], "file": f[1], "line": f[2],
                       "source": _snippet(files, f[1], int(f[2]))}
                      for f in ch["stack"]]
            chains.append({"task_seconds": ch["task_seconds"], "frames": frames})
        sites.append({**{k: v for k, v in s.items() if k not in ("stacks", "stack")},
                      "chains": chains})
    return sites


def waits_view(rec: Recording, diagnosis: dict[str, Any], waits: dict[str, Any]) -> dict[str, Any]:
    m = rec.manifest
    return {"verdict": diagnosis.get("verdict"), "summary": diagnosis.get("summary", ""),
            "recommendation": diagnosis.get("recommendation", ""),
            "sites": _with_sources(rec, waits), "split": waits.get("split", {}),
            "flame": waits.get("flame"), "worst": waits.get("worst"),
            "background": waits.get("background", []), "missing": waits.get("missing"),
            "threads_only": threads_only(waits),
            "bin_s": waits.get("bin_s", 0.25), "colours": KIND_COLOURS,
            "snapshots": waits.get("snapshots", 0),
            "request_seconds": waits.get("request_seconds", 0.0),
            "command": shlex.join(m.get("command") or []),
            "outcome": (m.get("status") or {}).get("outcome")}


def write_waits_report(rec: Recording, diagnosis: dict[str, Any], waits: dict[str, Any]) -> Path:
    view = waits_view(rec, diagnosis, waits)
    created = rec.manifest.get("timings", {}).get("created")
    html = render("waits.html.j2", view=view, title=f"pinkclinic waits: {rec.path.name}",
                  verdict_label=LABELS.get(view["verdict"], view["verdict"]),
                  started=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(created or 0)))
    out = rec.path.parent / (rec.path.name + ".html")
    out.write_text(html, encoding="utf-8")
    return out
