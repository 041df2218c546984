"""The flame graph report: a self-contained HTML page, or a fragment to embed.

``render_flame_html(profile, meta)`` gives the whole ``pinkclinic flame`` page.
Other reports embed the same widget with ``flame_fragment(profile, dom_id=...)``
(doctor: stall stacks; heap: bytes with counts). Several fragments can share a
page: pass ``with_assets=False`` to all but one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from markupsafe import Markup

from pinkclinic.profile.model import Profile
from pinkclinic.render import render
from pinkclinic.render.flame_data import encode

_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,40}$")


def flame_fragment(profile: Profile, *, dom_id: str = "flame", with_assets: bool = True,
                   heading: str | None = None, meta: dict | None = None,
                   options: dict | None = None,
                   sources: dict[str, dict[str, str]] | None = None) -> Markup:
    """The widget (toolbar, canvas, info bar, table) and its data, as markup.

    ``options`` sets the initial view: ``{"idle": bool, "view": "flame"|"icicle"}``;
    the URL hash overrides it. ``dom_id`` also prefixes the hash keys, so two
    widgets on one page keep separate state.
    """
    if not _ID.match(dom_id):
        raise ValueError(f"dom_id must be a simple identifier, not {dom_id!r}")
    data = encode(profile, meta=meta, sources=sources)
    data["options"] = dict(options or {})
    html = render("partials/flame.j2", id=dom_id, data=data, heading=heading,
                  with_assets=with_assets)
    return Markup(html)


def render_flame_html(profile: Profile, meta: dict | None = None, *,
                      title: str | None = None, options: dict | None = None,
                      sources: dict[str, dict[str, str]] | None = None) -> str:
    """The whole ``NAME.pinkclinic-flame.html`` page; ``sources`` (path -> {line: text})
    gives the source heatmap of the frames in those files."""
    meta = {**profile.meta, **(meta or {})}
    title = title or meta.get("title") or "pinkclinic flame"
    opts = {"idle": bool(meta.get("idle"))}
    opts.update(options or {})
    fragment = flame_fragment(profile, dom_id="flame", meta=meta, options=opts,
                              sources=sources)
    return render("flame.html.j2", title=title, meta=meta, fragment=fragment,
                  summary=summary_lines(profile, meta), unit=profile.unit)


def write_flame_report(profile: Profile, path: str | os.PathLike, meta: dict | None = None,
                       **kw: Any) -> Path:
    """Render and write atomically; returns the path."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(render_flame_html(profile, meta, **kw), encoding="utf-8")
    os.replace(tmp, path)
    return path


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else ("es" if word.endswith("s") else "s"))


def outcome_line(meta: dict) -> str | None:
    """How the run ended, when it did not simply complete."""
    outcome = meta.get("outcome")
    if not outcome or outcome == "completed":
        return None
    if outcome == "running":  # the manifest was never finished: pinkclinic itself died
        return ("recording cut short: pinkclinic stopped before it finished the recording; "
                "this is what py-spy had written")
    detail = meta.get("status_detail") or ""
    return f"run {outcome}" + (f": {detail}" if detail else "")


def summary_lines(profile: Profile, meta: dict) -> list[str]:
    """Plain facts for the page header (escaped by the template)."""
    out = []
    total = profile.total(idle=True)
    busy = profile.total(idle=False)
    secs = meta.get("duration_s")
    span = f" over {secs:.1f} s" if secs else ""
    if profile.unit == "samples":
        rate = meta.get("rate_hz")
        at = f" at {rate} Hz" if rate else ""
        cpu = (f", {busy:,.0f} busy" if meta.get("idle_recorded", True)
               else " on CPU (recorded without --idle: waiting time was not sampled)")
        out.append(f"{total:,.0f} samples{span}{at}{cpu}; "
                   f"{_n(len(profile.threads), 'thread')} in "
                   f"{_n(len(profile.processes()), 'process')}")
    elif profile.unit == "seconds":
        out.append(f"{total:.2f} s profiled{span}, {busy:.2f} s busy")
    else:
        out.append(f"{total:,.0f} bytes")
    line = outcome_line(meta)
    if line:
        out.append(line)
    out.extend(meta.get("warnings") or [])
    return out
