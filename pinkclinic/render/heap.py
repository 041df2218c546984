"""The heap report: verdict, leak suspects, memory over time, and the peak's flame graph.

Bytes are in powers of 1000 (``human_bytes``: B, kB, MB), as in the terminal and in
the flame graph's info bar. Each suspect row carries its stack (innermost first, the
app's frames marked); a small-objects suspect carries the app sites that grow in step
with it (its holders), which the summary names.
"""

from __future__ import annotations

import os
import shlex
import time
from pathlib import Path
from typing import Any

from pinkclinic.heap.diagnosis import short_file
from pinkclinic.heap.frames import area
from pinkclinic.heap.peak import as_weighted_stacks
from pinkclinic.profile import from_stacks
from pinkclinic.profile.areas import NATIVE, STDLIB, AreaClassifier
from pinkclinic.recording import Recording
from pinkclinic.render import render
from pinkclinic.render.doctor import LABELS, OUTCOMES
from pinkclinic.render.flame import flame_fragment
from pinkclinic.render.series import PALETTE
from pinkclinic.units import MB, human_bytes

VERSIONS_SHOWN = ("python", "memray", "pinkclinic", "platform")


def memory_chart(result: dict[str, Any], window: dict | None) -> dict[str, Any]:
    series = []
    procs = result.get("series", {}).get("processes", [])
    for i, p in enumerate(procs):
        tag = f" (pid {p['pid']})" if len(procs) > 1 else ""
        series.append({"name": f"RSS{tag}", "color": PALETTE[(2 * i) % len(PALETTE)],
                       "points": [[t, round(v / MB, 3)] for t, v in zip(p["t"], p["rss"])]})
        series.append({"name": f"tracked heap{tag}", "color": PALETTE[(2 * i + 1) % len(PALETTE)],
                       "dash": True,
                       "points": [[t, round(v / MB, 3)] for t, v in zip(p["t"], p["heap"])]})
    load = result.get("series", {}).get("load") or {}
    rate = [{"name": "served (2xx/3xx)/s", "color": PALETTE[1],
             "points": [[t + 0.5, n] for t, n in zip(load.get("t", []), load.get("requests", []))]}]
    if any(load.get("failed") or []):
        rate.append({"name": "failed/s", "color": "#c92a2a",
                     "points": [[t + 0.5, n] for t, n in zip(load["t"], load["failed"])]})
    ts = [pt[0] for s in series + rate for pt in s["points"]]
    t0, t1 = (min(ts), max(ts)) if ts else (0.0, 1.0)
    charts = [{"id": "memory", "title": "Memory", "unit": "MB", "series": series,
               "flag": LABELS["memory-leak"] if result.get("diagnosis") else None,
               "empty": "memray wrote no snapshots"},
              {"id": "load", "title": "Load: requests", "unit": "/s",
               "series": rate if load else [], "flag": None, "empty": "no load from pinkclinic"}]
    return {"t0": t0, "t1": max(t1, t0 + 1e-3), "window": window, "charts": charts}


_PSEUDO = {"<pymalloc>": NATIVE, "<native>": NATIVE, "<import>": STDLIB,
           "<process>": STDLIB, "<profiler>": "deps:profiler"}


class HeapAreas(AreaClassifier):
    """The flame graph's areas, plus heap's pseudo-frames (``<pymalloc>``, ``<import>``, ...)
    and a ``deps:profiler`` area for memray and pinkclinic's probe."""

    def _classify_file(self, file: str) -> str:
        if file in _PSEUDO:
            return _PSEUDO[file]
        if area(file) == "profiler":
            return "deps:profiler"
        return super()._classify_file(file)


def peak_profile(result: dict[str, Any]):
    stacks = [(frames, size, count, None, None) for frames, size, count in
              as_weighted_stacks(result["peak"])]
    if not stacks:
        return None
    return from_stacks(stacks, unit="bytes", meta={"title": "heap at its peak"},
                       classifier=HeapAreas())


def _rate(v: float | None, unit: str) -> str:
    return "–" if v is None else f"{human_bytes(v)}{unit}"


def _site(s: dict, root: str | None) -> dict:
    where = short_file(s["file"], root) + (f":{s['line']}" if s.get("line") else "")
    # a small-objects suspect's own stack is the incidental one that opened an arena: its
    # holders' stacks are the ones worth reading
    frames = [] if s.get("area") == "pymalloc" else s.get("stack") or []
    stack = [{"function": f[0], "where": f"{short_file(f[1], root)}:{f[2]}", "app": area(f[1]) == "app"}
             for f in reversed(frames)]
    return {"function": s["function"], "where": where, "stack": stack,
            "per_request": _rate(s.get("bytes_per_request"), ""),
            "per_second": _rate(s.get("bytes_per_second"), "/s"),
            "grew": human_bytes(s.get("growth_bytes") or 0),
            "confidence": f"{100 * s.get('confidence', 0):.0f}%", "reason": s.get("reason"),
            "note": s.get("note"), "holders": [_site(h, root) for h in s.get("holders") or []]}


def _peak_heading(peak: dict) -> str:
    size = f"{human_bytes(peak.get('bytes', 0))} in {peak.get('count', 0):,} allocations"
    if peak.get("summed_over_processes") or len(peak.get("per_process", [])) > 1:
        return (f"Alive at each process's own high-water mark, summed over "
                f"{len(peak.get('per_process', []))} processes (their peaks need not coincide): "
                f"{size}, by process and allocation stack")
    return f"Alive at the high-water mark: {size}, by allocation stack"


def render_heap(rec: Recording, result: dict[str, Any], diagnosis: dict[str, Any]) -> str:
    m = rec.manifest
    t = m.get("timings", {})
    w = result.get("window") or {}
    root = m.get("cwd")
    profile = peak_profile(result)
    flame = None
    if profile is not None:
        flame = flame_fragment(profile, dom_id="heap", heading=_peak_heading(result.get("peak", {})))
    verdict = diagnosis["verdict"]
    recommendation = diagnosis.get("recommendation") or \
        (diagnosis.get("issues") or [{}])[0].get("recommendation", "")
    return render("heap.html.j2",
                  title=f"pinkclinic heap · {LABELS.get(verdict, verdict)}",
                  verdict=verdict, verdict_label=LABELS.get(verdict, verdict),
                  summary=diagnosis.get("summary", ""), recommendation=recommendation,
                  suspects=[_site(s, root) for s in result.get("suspects", [])],
                  considered=[_site(s, root) for s in result.get("considered", [])],
                  command=shlex.join(m.get("command", [])) or f"--pid {m.get('target', {}).get('pid')}",
                  target=m.get("target", {}),
                  status_note=OUTCOMES.get(m.get("status", {}).get("outcome", ""), ""),
                  status_detail=m.get("status", {}).get("detail", ""),
                  started=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t["created"]))
                  if t.get("created") else "",
                  window=w, load=result.get("load"),
                  captures=[{**c, "size": human_bytes(c.get("bytes") or 0)}
                            for c in result.get("captures", [])],
                  charts=memory_chart(result, {"start": w["start"], "end": w["end"]}
                                      if w.get("start") and w.get("end") else None),
                  flame_html=flame, recording=rec.path.name,
                  versions={k: v for k, v in m.get("versions", {}).items() if k in VERSIONS_SHOWN},
                  signals_missing=diagnosis.get("signals_missing", []))


def write_heap_report(rec: Recording, result: dict[str, Any], diagnosis: dict[str, Any],
                      out: str | os.PathLike | None = None) -> Path:
    path = Path(out) if out else rec.report_path
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(render_heap(rec, result, diagnosis), encoding="utf-8")
    os.replace(tmp, path)
    return path
