"""What was alive at each process's memory peak, as weighted stacks for a flame graph.

The peak is the memory snapshot with the largest tracked heap (``Capture.peak_index``);
what was alive there comes from the same temporal records as the growth analysis
(one pass over each capture, :func:`pinkclinic.heap.growth.read_temporal`): an
interval is alive at snapshot ``s`` when ``allocated <= s < deallocated``. This is
memray's high-water mark to within one snapshot (10-20 ms), and, unlike memray's
high-water-mark records, which merge every allocator of a stack into one record,
it keeps pymalloc arenas apart from the other allocations of the same stack.

Stacks are outermost first, one per distinct Python stack (threads merged). Frames
are interned, because the same few hundred frames recur in every stack (a 60 s
capture: 940 stacks, 30 000 frames, 1 052 distinct; 2.1 MB of JSON inline, 0.2 MB
interned)::

    {"bytes": B, "count": N, "frame_table": [[func, file, line], ...],
     "stacks": [{"frames": [i, j, ...], "bytes": B, "count": N}, ...]}

``frames`` index ``frame_table``; :func:`as_weighted_stacks` gives them back as
``(frames, bytes, count)`` tuples with ``(func, file, line)`` frames. With several
captures (forked workers) each process contributes its own peak under a root frame
naming it; their sum is an upper bound of the tree's simultaneous peak
(``summed_over_processes``). Only the ``MAX_PEAK_STACKS`` largest stacks are kept;
the rest are summed into one ``OTHER`` stack so the report stays small.

As in the growth analysis, pymalloc arenas are not blamed on the incidental stack
that opened them: they are one ``SMALL_OBJECTS`` frame. Allocations made at import
time and the profiler's own hang under a root frame that says so (``IMPORT``,
``PROFILER``), and allocations with no Python stack under ``NO_STACK``, so that the
flame graph, and its collapsed and speedscope exports, never have an empty stack.
"""

from __future__ import annotations

import heapq

from pinkclinic.heap.capture import Capture
from pinkclinic.heap.frames import site_of, strip_launcher
from pinkclinic.heap.growth import SMALL_OBJECTS, is_arena

MAX_PEAK_STACKS = 2000
OTHER = ("[smaller stacks]", "", 0)
IMPORT = ("[import time]", "<import>", 0)
PROFILER = ("[profiler: memray and pinkclinic's probe]", "<profiler>", 0)
NO_STACK = ("[no Python stack]", "<native>", 0)


def process_frame(cap: Capture) -> list:
    return [f"process {cap.pid}: {cap.command_line[:120]}", "<process>", 0]


class PeakTree:
    """Each capture's peak, merged by stack, capture after capture (a consumer of
    :func:`read_temporal`)."""

    def __init__(self, multi: bool):
        self.multi = multi
        self.merged: dict[tuple, list[int]] = {}
        self.per_process: list[dict] = []

    def begin(self, cap: Capture) -> None:
        self.root = (tuple(process_frame(cap)),) if self.multi else ()
        self.at = cap.peak_index()
        self.per_process.append({"pid": cap.pid, "peak_memory": cap.peak_memory,
                                 "peak_time": cap.times[self.at] if cap.times else None})

    def add(self, rec, stack_of) -> None:
        s = self.at
        size = count = 0
        for iv in rec.intervals:
            d = iv.deallocated_before_snapshot
            if iv.allocated_before_snapshot <= s and (d is None or s < d):
                size += iv.n_bytes
                count += iv.n_allocations
        if size <= 0:
            return
        acc = self.merged.setdefault(self.root + _stack_key(stack_of(), is_arena(rec)), [0, 0])
        acc[0] += size
        acc[1] += count

    def result(self, max_stacks: int = MAX_PEAK_STACKS) -> dict:
        merged = self.merged
        total_b = sum(v[0] for v in merged.values())
        total_n = sum(v[1] for v in merged.values())
        top = heapq.nlargest(max_stacks, merged.items(), key=lambda kv: kv[1][0])
        dropped = len(merged) - len(top)  # summed into OTHER
        rest_b = total_b - sum(v[0] for _, v in top)
        rest_n = total_n - sum(v[1] for _, v in top)
        if rest_b > 0 or rest_n > 0:
            top.append(((OTHER,), [rest_b, rest_n]))
        ids: dict[tuple, int] = {}
        stacks = [{"frames": [ids.setdefault(f, len(ids)) for f in k], "bytes": v[0],
                   "count": v[1]} for k, v in top]
        return {"bytes": total_b, "count": total_n, "frame_table": [list(f) for f in ids],
                "stacks": stacks, "dropped_stacks": dropped,
                "per_process": self.per_process, "summed_over_processes": self.multi}


def _stack_key(inner: list, arena: bool) -> tuple:
    """The outermost-first stack an allocation is shown under (``inner``: innermost first)."""
    frame, kind = site_of(inner)
    if frame is not None and arena:
        return (SMALL_OBJECTS,)
    outer = tuple(strip_launcher(inner[::-1]))
    if kind == "empty" or not outer:
        return (NO_STACK,)
    if kind == "import":
        return (IMPORT, *outer)
    if kind == "profiler":
        return (PROFILER, *outer)
    return outer


def as_weighted_stacks(peak: dict) -> list[tuple[list[tuple[str, str, int]], int, int]]:
    """The peak as ``(frames, bytes, count)`` tuples with ``(func, file, line)`` frames."""
    table = [tuple(f) for f in peak["frame_table"]]
    return [([table[i] for i in s["frames"]], s["bytes"], s["count"]) for s in peak["stacks"]]
