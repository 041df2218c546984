"""Heap analysis of one or more memray captures: peak, leak suspects, series, diagnosis.

The result is a JSON-serialisable dict (``SCHEMA_VERSION``) that the report and
``pinkclinic report`` re-render from::

    {"schema_version": 1,
     "captures": [{"file", "pid", "command_line", "start", "end", "peak_memory", ...}],
     "window":   {"start", "end", "source", "requests", "grid_points"},
     "load":     None | {"attempts", "served", "failed", "status", "no_response"},
     "peak":     {"bytes", "count", "frame_table": [[f, file, line], ...],   # at each
                  # process's largest-heap snapshot
                  "stacks": [{"frames": [frame_table indices], "bytes", "count"}]},
     "suspects": [{"function", "file", "line", "bytes_per_second", "bytes_per_request",
                   "confidence", "share", "growth_bytes", "stack", "series", ...}],
     "considered": [growing sites that were cleared, with "reason"],
     "steady_small": [sites that grew steadily, but too little to call a leak],
     "series":   {"processes": [{"pid", "t", "rss", "heap"}], "load": {"t", "requests"}},
     "leaks":    {"status": "ok" | "insufficient-data", "detail", "excluded_bytes",
                  "reason"?: "short-window" | "failed-load" | "steady-but-small"
                             | "untracked-workers"},
     "thresholds": {...},
     "diagnosis": None | {a doctor-schema issue of category "memory-leak"}}

Memory: one memray reader is open at a time. A first pass reads each capture's
snapshots (which fix the shared grid) and closes it; a second pass reopens each
capture and reads its temporal records once, for both the growth analysis and the
peak tree, then closes it. The last capture's reader stays open between the passes,
so a single capture is opened once. What stays is O(sites x grid + peak stacks); the
open reader costs O(its live allocations) on top (see :mod:`pinkclinic.heap.capture`).
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterable, Sequence

from pinkclinic.errors import PinkError
from pinkclinic.heap.capture import MAX_SNAPSHOTS, downsample, open_capture
from pinkclinic.heap.diagnosis import memory_leak_issue
from pinkclinic.heap.growth import MAX_GRID, MIN_GRID, SiteSeries, grid_times, read_temporal
from pinkclinic.heap.insufficient import load_problem, steady_problem
from pinkclinic.heap.peak import PeakTree
from pinkclinic.heap.suspects import rank, thresholds
from pinkclinic.heap.timeline import Timeline

SCHEMA_VERSION = 2   # 2: served = 2xx/3xx only; load, steady_small, leaks.reason


def analyse(captures: Sequence[str | os.PathLike], *,
            window: tuple[float, float] | None = None,
            requests: Iterable[dict | tuple[float, int]] | None = None,
            command: str = "", root: str | None = None, rerun: str = "",
            max_snapshots: int = MAX_SNAPSHOTS, max_grid: int = MAX_GRID) -> dict:
    """Analyse memray captures.

    ``window`` is the load window (epoch seconds; default: the load timeline's span,
    else the captures' span). ``requests`` are the load's per-second records
    (``load.jsonl`` lines, or ``(t, n)`` pairs); without them there is no
    bytes-per-request and growth is fitted against time. ``command`` (the target's
    command line), ``root`` (its working directory, to shorten file names) and
    ``rerun`` (the command to run again once the leak is fixed) only shape the
    diagnosis text.
    """
    if not captures:
        raise PinkError("no memray capture to analyse (expected memray-<PID>.bin files)")
    caps = []
    try:
        for i, p in enumerate(captures):
            caps.append(open_capture(p, max_snapshots=max_snapshots))
            if i < len(captures) - 1:
                caps[-1].close()
        return _analyse(caps, window, Timeline.from_ticks(requests or ()), max_grid,
                        {"command": command, "root": root, "rerun": rerun})
    finally:
        for c in caps:
            c.close()


def _analyse(caps, window, timeline, max_grid, text: dict) -> dict:
    good = [c for c in caps if c.error is None and c.times]
    result = {"schema_version": SCHEMA_VERSION, "captures": [c.info() for c in caps],
              "thresholds": thresholds(), "suspects": [], "considered": [],
              "steady_small": [], "diagnosis": None,
              "load": timeline.load_info() if timeline else None}
    if not good:
        raise PinkError("no readable memray capture: " +
                        "; ".join(c.error or f"{c.path.name} has no snapshots" for c in caps))
    source = "given"
    if window is None and timeline is not None:
        window, source = timeline.span, "load"
    if window is None:
        window, source = (min(c.times[0] for c in good), max(c.times[-1] for c in good)), "capture"
    t0 = max(window[0], min(c.times[0] for c in good))
    t1 = min(window[1], max(c.times[-1] for c in good))
    in_window = max((sum(1 for t in c.times if t0 <= t <= t1) for c in good), default=0)
    n = min(max_grid, in_window)
    served = timeline.served(t0, t1) if timeline and t1 > t0 else None
    result["window"] = {"start": t0, "end": t1, "source": source, "grid_points": n,
                        "requests": round(served) if served is not None else None}
    result["series"] = {"processes": [downsample(c) for c in good],
                        "load": timeline.series() if timeline else None}
    leaks = {"status": "ok", "detail": "", "excluded_bytes": {}}
    result["leaks"] = leaks
    enough = t1 > t0 and n >= MIN_GRID
    series = SiteSeries(grid_times(t0, t1, n)) if enough else None
    peak = PeakTree(len(good) > 1)
    for cap in sorted(good, key=lambda c: c.reader is None):  # the open one first
        try:
            cap.reopen()
            read_temporal(cap, [peak] if series is None else [peak, series])
        finally:
            cap.close()
    result["peak"] = peak.result()
    if not enough:
        leaks.update(status="insufficient-data", reason="short-window",
                     detail=f"only {max(n, 0)} memory snapshots in the load window "
                            f"(need {MIN_GRID}); run the load for longer")
        return result
    leaks["excluded_bytes"] = {k: round(v) for k, v in series.excluded.items() if v}
    suspects, considered, steady = rank(series.sites, series.grid, timeline)
    result["suspects"], result["considered"], result["steady_small"] = suspects, considered, steady
    # no price off failed requests, and no "healthy" off too little growth
    problem, reason = load_problem(timeline), "failed-load"
    if problem is None and not suspects:
        problem, reason = steady_problem(steady, text["root"]), "steady-but-small"
    if problem is not None:
        leaks.update(status="insufficient-data", reason=reason, detail=problem)
        return result
    heap_start = sum(_heap_at(c, t0) for c in good)
    result["diagnosis"] = memory_leak_issue(suspects, heap_start=heap_start, window_s=t1 - t0,
                                            requests=served, **text)
    return result


def _heap_at(cap, t: float) -> int:
    i = bisect.bisect_right(cap.times, t) - 1
    return cap.heap[max(0, i)]
