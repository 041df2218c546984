"""The heap report: verdict, leak suspects, memory over time, and the peak's flame graph."""

from __future__ import annotations

import os
import shlex
import time
from pathlib import Path
from typing import Any

from pinkclinic.recording import Recording
from pinkclinic.render import render
from pinkclinic.render.doctor import LABELS, OUTCOMES
from pinkclinic.render.series import PALETTE

MIB = 2**20


def memory_chart(result: dict[str, Any], window: dict | None) -> dict[str, Any]:
    series = []
    for i, p in enumerate(result.get("series", {}).get("processes", [])):
        tag = f" (pid {p['pid']})" if len(result["series"]["processes"]) > 1 else ""
        series.append({"name": f"RSS{tag}", "color": PALETTE[(2 * i) % len(PALETTE)],
                       "points": [[t, round(v / MIB, 3)] for t, v in zip(p["t"], p["rss"])]})
        series.append({"name": f"tracked heap{tag}", "color": PALETTE[(2 * i + 1) % len(PALETTE)],
                       "dash": True,
                       "points": [[t, round(v / MIB, 3)] for t, v in zip(p["t"], p["heap"])]})
    load = result.get("series", {}).get("load") or {}
    rate = [{"name": "requests/s", "color": PALETTE[1],
             "points": [[t + 0.5, n] for t, n in zip(load.get("t", []), load.get("requests", []))]}]
    ts = [pt[0] for s in series + rate for pt in s["points"]]
    t0, t1 = (min(ts), max(ts)) if ts else (0.0, 1.0)
    charts = [{"id": "memory", "title": "Memory", "unit": "MiB", "series": series,
               "flag": LABELS["memory-leak"] if result.get("diagnosis") else None,
               "empty": "memray wrote no snapshots"},
              {"id": "load", "title": "Load: requests", "unit": "/s",
               "series": rate if load else [], "flag": None, "empty": "no load from pinkclinic"}]
    return {"t0": t0, "t1": max(t1, t0 + 1e-3), "window": window, "charts": charts}


def peak_profile(result: dict[str, Any]):
    from pinkclinic.heap import as_weighted_stacks
    from pinkclinic.profile import from_stacks

    stacks = [(frames, size, count, None, None) for frames, size, count in
              as_weighted_stacks(result["peak"])]
    return from_stacks(stacks, unit="bytes", meta={"title": "heap at its peak"}) if stacks else None


def render_heap(rec: Recording, result: dict[str, Any], diagnosis: dict[str, Any]) -> str:
    from pinkclinic.render.flame import flame_fragment

    m = rec.manifest
    t = m.get("timings", {})
    w = result.get("window") or {}
    profile = peak_profile(result)
    peak = result.get("peak", {})
    flame = None
    if profile is not None:
        flame = flame_fragment(profile, dom_id="heap",
                               heading=f"Alive at the high-water mark: {peak.get('bytes', 0) / MIB:.1f} MiB "
                                       f"in {peak.get('count', 0):,} allocations, by allocation stack")
    return render("heap.html.j2",
                  title=f"pinkclinic heap · {LABELS.get(diagnosis['verdict'], diagnosis['verdict'])}",
                  verdict=diagnosis["verdict"],
                  verdict_label=LABELS.get(diagnosis["verdict"], diagnosis["verdict"]),
                  summary=diagnosis.get("summary", ""),
                  recommendation=(diagnosis.get("issues") or [{}])[0].get("recommendation", ""),
                  suspects=result.get("suspects", []), considered=result.get("considered", []),
                  command=shlex.join(m.get("command", [])) or f"--pid {m.get('target', {}).get('pid')}",
                  target=m.get("target", {}),
                  status_note=OUTCOMES.get(m.get("status", {}).get("outcome", ""), ""),
                  status_detail=m.get("status", {}).get("detail", ""),
                  started=time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t["created"]))
                  if t.get("created") else "",
                  window=w, captures=result.get("captures", []),
                  charts=memory_chart(result, {"start": w["start"], "end": w["end"]}
                                      if w.get("start") and w.get("end") else None),
                  flame_html=flame, recording=rec.path.name, versions=m.get("versions", {}),
                  signals_missing=diagnosis.get("signals_missing", []))


def write_heap_report(rec: Recording, result: dict[str, Any], diagnosis: dict[str, Any],
                      out: str | os.PathLike | None = None) -> Path:
    path = Path(out) if out else rec.report_path
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(render_heap(rec, result, diagnosis), encoding="utf-8")
    os.replace(tmp, path)
    return path
