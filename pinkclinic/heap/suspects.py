"""Leak suspects: sites whose live bytes grow steadily with the requests served.

Each site's live bytes on the window's grid are fitted against cumulative requests
(against time when there is no load timeline). A site is a leak suspect when all of:

* it grew by at least ``MIN_GROWTH_BYTES`` over the window (fitted),
* and by at least ``MIN_BYTES_PER_REQUEST`` per request,
* linearly: R^2 of the fit >= ``MIN_R2`` (the confidence reported),
* and still grows at the end: the slope over the last third is at least
  ``MIN_LATE_RATIO`` of the overall slope. A bounded cache that fills and then stays
  flat, and a large allocation made once, fail here or on R^2.

The thresholds come from the samples in ``samples/heap``, 3 runs each
(``bench/results/heap_thresholds.md``): the leaks there have R^2 >= 0.98 and late
ratios 0.88-1.11; the bounded LRU and the 32 MB table, R^2 <= 0.29 and late ratios
0.00. With these thresholds a cache that fills steadily is cleared if it is full
before about 80% of the window; one still filling at the end looks like a leak.

A site that passes every test but the size floor (it grew steadily, but by less than
``MIN_GROWTH_BYTES`` and at least ``MIN_STEADY_BYTES``) is *steady but small*: too
little to call a leak, too steady to call healthy. With no suspect, the analysis
says so and asks for a longer run instead of clearing the server.
"""

from __future__ import annotations

from pinkclinic.analysis.stats import linear_fit
from pinkclinic.heap.fit import late_ratio
from pinkclinic.heap.timeline import Timeline

MIN_GROWTH_BYTES = 256 * 1024   # below this a window's growth is noise (a dict resize, an arena)
MIN_STEADY_BYTES = 16 * 1024    # steady growth below the floor but above this: run longer
MIN_BYTES_PER_REQUEST = 4       # half a pointer: a container gaining a slot every other request
MIN_R2 = 0.9
MIN_LATE_RATIO = 0.5
# Small objects are seen as 1 MiB pymalloc arenas, so their live bytes are a staircase:
# with 2-4 steps in a window a perfectly steady leak fits a line with R^2 0.77-0.89
# (small_objects_leak.py, three 3 s runs). When an app site grows in step with them
# (the list or dict holding them: R^2 >= MIN_R2, still growing), that site supplies the
# linearity evidence and the staircase only needs this R^2 - and no late-slope check,
# which a staircase fails whenever its last step falls before the last third.
MIN_R2_SMALL_OBJECTS = 0.7
MAX_CONSIDERED = 10             # non-suspects reported with the reason they were cleared


def thresholds() -> dict:
    return {"min_growth_bytes": MIN_GROWTH_BYTES, "min_bytes_per_request": MIN_BYTES_PER_REQUEST,
            "min_r2": MIN_R2, "min_late_ratio": MIN_LATE_RATIO,
            "min_r2_small_objects": MIN_R2_SMALL_OBJECTS, "min_steady_bytes": MIN_STEADY_BYTES}


def rank(sites: dict, grid: list[float],
         timeline: Timeline | None) -> tuple[list[dict], list[dict], list[dict]]:
    """(suspects, considered, steady): suspects ranked by growth; the largest cleared
    growers; and the cleared ones that grew steadily but below the size floor."""
    t0 = grid[0]
    ts = [t - t0 for t in grid]
    duration = ts[-1] if ts[-1] > 0 else 0.0
    served = timeline.served(grid[0], grid[-1]) if timeline else 0.0
    # x: requests served since the window began (time when there is no load timeline)
    xs = [timeline.cumulative(t) - timeline.cumulative(t0) for t in grid] if served > 0 else ts
    rows = []
    for site in sites.values():
        ys = site.bytes
        if max(ys) - min(ys) <= 0:
            continue
        fx = linear_fit(xs, ys)
        ft = linear_fit(ts, ys) if xs is not ts else fx
        growth = fx.slope * (xs[-1] - xs[0])
        if growth <= 0:
            continue
        row = {
            "function": site.frame[0], "file": site.frame[1], "line": site.frame[2],
            "area": site.area,
            "growth_bytes": round(growth),
            "bytes_per_second": round(growth / duration, 1) if duration else None,
            "bytes_per_request": round(fx.slope, 1) if served > 0 else None,
            "confidence": round(fx.r2, 3),
            "r2_time": round(ft.r2, 3),
            "late_ratio": round(late_ratio(xs, ys, fx.slope), 3),
            "live_bytes_start": round(ys[0]), "live_bytes_end": round(ys[-1]),
            "count_growth": round(site.count[-1] - site.count[0]),
            "stack": [list(f) for f in site.stack],
            "series": {"t": [round(t, 3) for t in grid], "bytes": [round(y) for y in ys]},
        }
        row["reason"] = _reason(row, served > 0)
        rows.append(row)
    rows.sort(key=lambda r: -r["growth_bytes"])
    for r in rows:
        if r["area"] == "pymalloc":
            r["note"] = ("objects of 512 B or less, which memray sees only as the pymalloc "
                         "arenas holding them; whichever allocation opened an arena is "
                         "incidental, so the sites that grow in step are named instead")
            r["holders"] = _holders(rows)
            if r["holders"]:
                r["reason"] = _reason(r, served > 0, min_r2=MIN_R2_SMALL_OBJECTS, late=False)
            if r["holders"] and r["reason"] is None:  # shown under the small-objects suspect
                # every site of a holder's function: another line of it that grew less
                # steadily must not be listed as cleared beside the verdict that names it
                held = {(h["function"], h["file"]) for h in r["holders"]}
                rows = [x for x in rows if x["reason"] is None
                        or (x["function"], x["file"]) not in held]
    suspects = [r for r in rows if r["reason"] is None]
    steady = [{k: r[k] for k in _STEADY_KEYS} for r in rows
              if r["reason"] is not None and _steady_but_small(r, served > 0)]
    considered = [r for r in rows if r["reason"] is not None][:MAX_CONSIDERED]
    total = sum(r["growth_bytes"] for r in suspects) or 1
    for r in suspects:
        r["share"] = round(r["growth_bytes"] / total, 3)
        del r["reason"]
    for r in considered:
        del r["series"], r["stack"]
    return suspects, considered, steady


_STEADY_KEYS = ("function", "file", "line", "area", "growth_bytes", "bytes_per_request",
                "bytes_per_second", "confidence", "late_ratio")


def _steady_but_small(row: dict, have_requests: bool) -> bool:
    """Cleared only for its size: it would be a suspect with a floor of MIN_STEADY_BYTES."""
    if row["growth_bytes"] >= MIN_GROWTH_BYTES or row["growth_bytes"] < MIN_STEADY_BYTES:
        return False
    if row["area"] == "pymalloc":
        return bool(row.get("holders")) and _reason(row, have_requests, min_growth=MIN_STEADY_BYTES,
                                                    min_r2=MIN_R2_SMALL_OBJECTS, late=False) is None
    return _reason(row, have_requests, min_growth=MIN_STEADY_BYTES) is None


def _holders(rows: list[dict], limit: int = 3) -> list[dict]:
    """App sites that grow steadily in step, whatever their size: the containers
    (a list's or dict's own storage) that keep small objects alive."""
    found = [r for r in rows if r["area"] == "app" and r["confidence"] >= MIN_R2
             and r["late_ratio"] >= MIN_LATE_RATIO]
    found.sort(key=lambda r: -r["confidence"] * r["growth_bytes"])
    return [{k: r[k] for k in ("function", "file", "line", "bytes_per_request",
                               "bytes_per_second", "confidence", "stack")} for r in found[:limit]]


def _reason(row: dict, have_requests: bool, *, min_r2: float = MIN_R2, late: bool = True,
            min_growth: int = MIN_GROWTH_BYTES) -> str | None:
    """Why a growing site is not a leak suspect, or None when it is one."""
    if row["growth_bytes"] < min_growth:
        return f"grew {row['growth_bytes']:,} B, below {min_growth:,} B"
    if have_requests and row["bytes_per_request"] < MIN_BYTES_PER_REQUEST:
        return f"{row['bytes_per_request']} B/request, below {MIN_BYTES_PER_REQUEST}"
    if row["confidence"] < min_r2:
        return f"not linear (R^2 {row['confidence']} < {min_r2})"
    if late and row["late_ratio"] < MIN_LATE_RATIO:
        return f"levelled off (late slope {row['late_ratio']:.2f} of the overall)"
    return None
