"""The doctor report: one self-contained HTML file built from a recording.

Verdict banner, issues with their culprits and source, charts on one shared
time axis (load window shaded, issue flags), and the flame graph of the stacks
behind the verdict when one was recorded.
"""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Any

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.diagnose import DIAGNOSIS_FILE
from pinkclinic.analysis.pyspy_window import loop_busy
from pinkclinic.analysis.sources import snippet
from pinkclinic.jsonio import read_json
from pinkclinic.recording import Recording
from pinkclinic.render import render, series

LABELS = {
    "loop-cpu": "Event loop blocked by CPU work",
    "loop-blocking-call": "Event loop blocked by a synchronous call",
    "io-wait": "Waiting on I/O",
    "pool-exhausted": "Requests queue for a pool",
    "lock-contention": "Requests queue on a lock",
    "gc-pressure": "Garbage-collection pressure",
    "memory-leak": "Memory leak",
    "gil-contention": "GIL contention",
    "cpu-saturation": "Saturated CPU cores (waiting for a core, not the GIL)",
    "cpu-starved": "Cores held by other processes",
    "healthy": "Healthy",
    "insufficient-data": "Not enough data",
}
# which charts carry a flag for which category
FLAGS = {
    "loop-cpu": ("lag", "cpu"), "loop-blocking-call": ("lag",), "io-wait": ("latency", "cpu"),
    "pool-exhausted": ("latency",), "lock-contention": ("latency",),
    "gc-pressure": ("gc",), "memory-leak": ("memory",), "gil-contention": ("cpu", "threads"),
}

# a short banner per outcome (the heap report uses these; doctor's says what happened)
OUTCOMES = {
    "completed": "", "running": "The run was cut short (pinkclinic itself was stopped); "
    "this report is built from what was collected.",
    "interrupted": "The run was interrupted; this report is built from what was collected.",
    "target-exited": "The target exited during the run; this report is built from what was collected.",
    "target-crashed": "The target crashed during the run; this report is built from what was collected.",
    "error": "The run ended with an error; this report is built from what was collected.",
}


def ending_line(outcome: str | None, detail: str | None) -> str | None:
    """One line on how the run ended, unless it simply completed (terminal and banner)."""
    detail = detail or ""
    if not outcome or outcome == "completed":
        return None
    if outcome == "interrupted":
        return f"interrupted ({detail or 'Ctrl-C'}): the report covers what was recorded until then"
    if outcome == "running":  # the manifest was never finished: pinkclinic itself was killed
        return ("pinkclinic was stopped before it finished the recording (e.g. kill -9); "
                "the report covers what had been written")
    return detail or outcome


def status_note(status: dict[str, Any]) -> str:
    """The report's banner line for a run that did not simply complete."""
    line = ending_line(status.get("outcome"), status.get("detail"))
    if not line:
        return ""
    if status.get("outcome") in ("target-crashed", "target-exited", "error"):
        line += "; this report is built from what was collected until then"
    return line[0].upper() + line[1:] + "."


def chart_spec(data: RecordingData, diagnosis: dict[str, Any]) -> dict[str, Any]:
    t = data.timings
    times = [v for v in t.values() if isinstance(v, (int, float))]
    samples = [s["t"] for ss in data.processes.values() for s in ss[:1] + ss[-1:]]
    t0 = min([*samples, t.get("listening") or t.get("launched") or min(times)])
    t1 = max([*samples, t.get("stopped") or t.get("finished") or max(times)])
    size = series.bin_size(t0, t1)
    rate, latency = series.load_series(data)
    flags: dict[str, str] = {}
    for issue in diagnosis.get("issues", []):
        for chart in FLAGS.get(issue["category"], ()):
            flags.setdefault(chart, LABELS.get(issue["category"], issue["category"]))
    charts = [
        ("cpu", "CPU", "%", series.cpu_series(data, size), "no CPU samples"),
        ("memory", "Memory", "MB", series.memory_series(data, size), "no memory samples"),
        _loop_chart(data, size),
        ("gc", "GC pause time", "%", series.gc_series(data, t0, t1, size),
         "the in-process probe did not run"),
        ("threads", "Threads and tasks", "", series.threads_series(data, size), "no samples"),
        ("load", "Load: requests and errors", "/s", rate, "no load from pinkclinic"),
        ("latency", "Load: latency", "ms", latency, "no load from pinkclinic"),
    ]
    w = data.window
    return {"t0": t0, "t1": max(t1, t0 + 1e-3),
            "window": None if w is None else {"start": w.start, "end": w.end},
            "charts": [{"id": cid, "title": title, "unit": unit, "series": ss, "empty": empty,
                        "flag": flags.get(cid)} for cid, title, unit, ss, empty in charts]}


def _loop_chart(data: RecordingData, size: float) -> tuple:
    """The probe's event-loop lag; attached (no probe), the loop thread's busy share from
    py-spy's samples instead, which is what the attach-mode loop analysis decides on."""
    if data.has_probe or not data.pyspy_threads:
        return ("lag", "Event-loop lag", "ms", series.lag_series(data, size),
                "no event loop seen (or the in-process probe did not run)")
    busy = loop_busy(data.pyspy_threads, size)
    many = len(busy) > 1
    out = [{"name": f"loop thread busy{f' (pid {pid})' if many else ''}",
            "color": series.PALETTE[i % len(series.PALETTE)],
            "points": [[series._r(t), series._r(100 * v)] for t, v in pts]}
           for i, ((pid, _tid), pts) in enumerate(sorted(busy.items(), key=str))]
    return ("lag", "Event-loop thread busy (py-spy samples; no probe when attached)", "%", out,
            "no event-loop thread seen in py-spy's samples")


def _issue_view(rec: Recording, issue: dict[str, Any]) -> dict[str, Any]:
    culprits = []
    for c in issue.get("culprits", []):
        culprits.append({**c, "source": snippet(rec, c.get("file", ""), int(c.get("line") or 0))})
    return {**issue, "label": LABELS.get(issue["category"], issue["category"]), "culprits": culprits}


def build_context(data: RecordingData, diagnosis: dict[str, Any], flame_html: str | None = None) -> dict:
    rec = data.rec
    m = rec.manifest
    t = m.get("timings", {})
    started = t.get("created")
    ended = t.get("finished") or t.get("stopped")
    status = m.get("status", {})
    return {
        "title": f"pinkclinic doctor · {LABELS.get(diagnosis['verdict'], diagnosis['verdict'])}",
        "verdict": diagnosis["verdict"],
        "verdict_label": LABELS.get(diagnosis["verdict"], diagnosis["verdict"]),
        "summary": diagnosis.get("summary", ""),
        "recommendation": diagnosis.get("recommendation", ""),
        "issues": [_issue_view(rec, i) for i in diagnosis.get("issues", [])
                   if i["category"] != "insufficient-data"]
        + [_issue_view(rec, s) for s in [diagnosis.get("saturation")] if s],
        "findings": diagnosis.get("findings", []),
        "signals_missing": diagnosis.get("signals_missing", []),
        # --pid: whether the probe was injected into each process (and removed after)
        "attach_probe": [{"pid": pid, "outcome": outcome} for pid, outcome
                         in sorted(m.get("attach", {}).get("probe", {}).items())],
        "command": shlex.join(m.get("command", [])) or f"--pid {m.get('target', {}).get('pid')}",
        "target": m.get("target", {}),
        "status_note": status_note(status),
        "status_bad": status.get("outcome") in ("target-crashed", "error"),
        "warnings": diagnosis.get("warnings", []),
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)) if started else "",
        "duration": f"{ended - started:.1f} s" if started and ended else "",
        "versions": m.get("versions", {}),
        "recording": rec.path.name,
        "charts": chart_spec(data, diagnosis),
        "flame_html": flame_html,
        "routes": diagnosis.get("routes"),  # per route: the table, or why there is none
    }


def render_doctor(data: RecordingData, diagnosis: dict[str, Any] | None = None,
                  flame_html: str | None = None) -> str:
    if diagnosis is None:
        diagnosis = read_json(data.rec.file(DIAGNOSIS_FILE))
    return render("doctor.html.j2", **build_context(data, diagnosis, flame_html))


def write_doctor_report(data: RecordingData, diagnosis: dict[str, Any] | None = None,
                        flame_html: str | None = None) -> Path:
    html = render_doctor(data, diagnosis, flame_html)
    out = data.rec.report_path
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out
