"""The diff page: ``NEW-vs-BASE.pinkclinic-diff.html``, one self-contained file.

The data (the differential tree, see :mod:`pinkclinic.diff.tree`) goes into a JSON
script element through :func:`~pinkclinic.render.script_json`; tables are rendered here,
every target string escaped by jinja2's autoescape.
"""

from __future__ import annotations

import os
from pathlib import Path

from pinkclinic.diff import Diff
from pinkclinic.diff import present as p
from pinkclinic.render import render

TABLE_ROWS = 200


def _rows(data: dict, per_request: bool) -> list[dict]:
    out = []
    for r in data.get("functions", [])[:TABLE_ROWS]:
        words, cls = p.verdict(r)
        out.append({"function": r["function"], "file": r["file"], "line": r["line"],
                    "base": p.value(r, "base", per_request), "new": p.value(r, "new", per_request),
                    "change": p.change(r), "interval": p.interval(r, per_request),
                    "self_change": p.pct(r.get("self_change")) if r.get("self_change") is not None
                    else "", "verdict": words, "cls": cls})
    return out


def summary_lines(data: dict) -> list[str]:
    """The page's header facts (the terminal prints the same)."""
    out = []
    if "total" in data:
        t = data["total"]
        if data.get("normalised_by") == "request":
            words, _ = p.verdict(t)
            out.append(f"CPU per request: {p.ms(t['base_ms_per_request'])} → "
                       f"{p.ms(t['new_ms_per_request'])} ({p.pct(t['change'])}, {words}); "
                       f"{data['base'].get('requests') or 0:,.0f} and "
                       f"{data['new'].get('requests') or 0:,.0f} requests served")
        else:
            out.append(f"CPU samples: {t['base_samples']:,.0f} → {t['new_samples']:,.0f}; "
                       "compared as shares (a side has no load results)")
    return out


def render_diff_html(diff: Diff) -> str:
    d = diff.data
    per_request = d.get("normalised_by") == "request"
    metrics = [{"label": m["label"], "base": p.figure(m["base"], m["unit"]),
                "new": p.figure(m["new"], m["unit"]), "change": p.pct(m["change"]),
                "cls": p.better_class(m)} for m in (d.get("doctor") or {}).get("metrics", [])]
    heap = d.get("heap") or {}
    peak = heap.get("peak") or {}
    leaks = [{**s, "base": p.figure(s["base_bytes_per_request"], "bytes"),
              "new": p.figure(s["new_bytes_per_request"], "bytes")} for s in heap.get("leaks", [])]
    removed_share = ""
    if diff.tree and diff.removed:
        whole = diff.tree["base"][0] or 1
        removed_share = f"{100 * diff.removed['base'][0] / whole:.1f}% of BASE"
    title = f"{d['new'].get('name')} vs {d['base'].get('name')} · pinkclinic diff"
    return render("diff.html.j2", title=title, d=d, summary=summary_lines(d), tree=diff.tree,
                  removed=diff.removed, removed_share=removed_share, per_request=per_request,
                  rows=_rows(d, per_request), n_functions=len(d.get("functions", [])),
                  metrics=metrics, leaks=leaks,
                  heap_peak=f"{p.figure(peak.get('base_bytes'), 'bytes')} → "
                            f"{p.figure(peak.get('new_bytes'), 'bytes')} "
                            f"({p.pct(peak.get('change'))})")


def default_path(diff: Diff) -> Path:
    """``NEW-NAME-vs-BASE-NAME.pinkclinic-diff.html`` beside NEW."""
    name = f"{diff.new.path.name.split('.pinkclinic-')[0]}-vs-" \
           f"{diff.base.path.name.split('.pinkclinic-')[0]}.pinkclinic-diff.html"
    return diff.new.path.parent / name


def write_diff_report(diff: Diff, out: str | os.PathLike | None = None) -> Path:
    path = Path(out) if out else default_path(diff)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(render_diff_html(diff), encoding="utf-8")
    os.replace(tmp, path)
    return path
