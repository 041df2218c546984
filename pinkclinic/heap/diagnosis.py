"""The ``memory-leak`` issue, in doctor's ``diagnosis.json`` schema, from the suspects.

Severity grows with how much of the heap the leak adds within the window:
``confidence x min(1, SEVERITY_BASE + growth / heap_at_window_start)``. A leak
that is certain but small next to the heap is ``SEVERITY_BASE`` (0.5); one that
doubles the heap in the window is 1.0.

Bytes are shown in powers of 1000 (B, kB, MB, GB, :func:`pinkclinic.units.human_bytes`)
everywhere in heap output, as in doctor's: the terminal, the report and the flame
graph's info bar.
"""

from __future__ import annotations

import os

from pinkclinic.heap.growth import SMALL_OBJECTS
from pinkclinic.units import human_bytes

SEVERITY_BASE = 0.5
MIN_CULPRIT_SHARE = 0.05   # suspects below this share of the total growth are not named
MAX_CULPRITS = 5
MAX_STACK_FRAMES = 40      # innermost frames kept in a culprit's stack


def rate_text(row: dict) -> str:
    """Per request when there is a load timeline, else per second."""
    if row.get("bytes_per_request") is not None:
        return f"{human_bytes(row['bytes_per_request'])}/request"
    return f"{human_bytes(row.get('bytes_per_second') or 0)}/s"


def short_file(file: str, root: str | None) -> str:
    """``file`` relative to the target's working directory when it lies under it."""
    if root and os.path.isabs(file):
        rel = os.path.relpath(file, root)
        if not rel.startswith(".."):
            return rel
    return file


def where(s: dict, root: str | None = None) -> str:
    file = short_file(s["file"], root)
    return f"{file}:{s['line']}" if s.get("line") else file


def _culprit(s: dict) -> dict:
    """A culprit entry; pooled small objects are blamed on the container that holds them."""
    named = s
    if s["area"] == "pymalloc" and s.get("holders"):
        named = s["holders"][0]
    out = {"function": named["function"], "file": named["file"], "line": named["line"],
           "share": s["share"], "bytes_per_request": s["bytes_per_request"],
           "bytes_per_second": s["bytes_per_second"], "confidence": s["confidence"],
           "stack": [list(f) for f in (named.get("stack") or [])][-MAX_STACK_FRAMES:]}
    if named is not s:
        out["small_objects"] = True
    return out


def memory_leak_issue(suspects: list[dict], *, heap_start: float, window_s: float,
                      requests: float | None, command: str = "",
                      root: str | None = None, rerun: str = "") -> dict | None:
    """A ``memory-leak`` issue naming the suspects, or ``None`` when there are none."""
    if not suspects:
        return None
    growth = sum(s["growth_bytes"] for s in suspects)
    culprits = [_culprit(s) for i, s in enumerate(suspects)
                if i == 0 or s["share"] >= MIN_CULPRIT_SHARE][:MAX_CULPRITS]
    top = culprits[0]
    confidence = sum(s["confidence"] * s["share"] for s in suspects)
    severity = confidence * min(1.0, SEVERITY_BASE + growth / max(heap_start, 1.0))
    bps = growth / window_s if window_s > 0 else None
    bpr = growth / requests if requests else None
    rate = f"about {human_bytes(top['bytes_per_request'])} per request" \
        if top.get("bytes_per_request") is not None else \
        f"about {human_bytes(top['bytes_per_second'] or 0)}/s (no load timeline, so not per request)"
    if top.get("small_objects"):
        summary = (f"small objects pile up at {rate}; `{top['function']}` in {where(top, root)} "
                   "grows in step and likely holds them")
    elif top["file"] == SMALL_OBJECTS[1]:
        summary = f"small objects (512 B or less) pile up at {rate}; no app site grows in step"
    else:
        summary = f"`{top['function']}` in {where(top, root)} keeps {rate} and never frees it"
    if len(suspects) > 1:
        summary += f" ({len(suspects)} growing sites in all)"
    return {
        "category": "memory-leak",
        "severity": round(max(0.0, min(1.0, severity)), 3),
        "summary": summary,
        "evidence": {
            "growth_bytes": round(growth),
            "window_s": round(window_s, 3),
            "requests": round(requests) if requests else None,
            "bytes_per_second": round(bps, 1) if bps is not None else None,
            "bytes_per_request": round(bpr, 1) if bpr is not None else None,
            "heap_at_window_start": round(heap_start),
            "suspects": len(suspects),
        },
        "culprits": culprits,
        "recommendation": (
            f"Look at what `{top['function']}` ({where(top, root)}) stores and what keeps it "
            "alive: a dict or list at module level, a cache without a bound, a closure or "
            "a class attribute. Bound it (an LRU with maxsize, a TTL) or drop the "
            "reference when the request ends, then rerun " +
            (f"`{rerun}`" if rerun else f"`pinkclinic heap -- {command}`" if command
             else "`pinkclinic heap`") +
            " and check that the site no longer grows."),
    }
