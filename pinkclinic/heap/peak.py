"""What was alive at the high-water mark, as weighted stacks for a flame graph.

Stacks are outermost first, one per distinct Python stack (threads merged). Frames
are interned, because the same few hundred frames recur in every stack (a 60 s
capture: 940 stacks, 30 000 frames, 1 052 distinct; 2.1 MB of JSON inline, 0.2 MB
interned)::

    {"bytes": B, "count": N, "frame_table": [[func, file, line], ...],
     "stacks": [{"frames": [i, j, ...], "bytes": B, "count": N}, ...]}

``frames`` index ``frame_table``; :func:`as_weighted_stacks` gives them back as
``(frames, bytes, count)`` tuples with ``(func, file, line)`` frames. With several
captures (forked workers) each process contributes its own high-water mark under a
root frame naming it; their sum is an upper bound of the tree's simultaneous peak.
Only the ``MAX_PEAK_STACKS`` largest stacks are kept; the rest are summed into one
``OTHER`` stack so the report stays small.
"""

from __future__ import annotations

import heapq

from pinkclinic.heap.capture import Capture
from pinkclinic.heap.frames import strip_launcher

MAX_PEAK_STACKS = 2000
OTHER = ["[smaller stacks]", "", 0]


def process_frame(cap: Capture) -> list:
    return [f"process {cap.pid}: {cap.command_line[:120]}", "<process>", 0]


def peak_stacks(caps: list[Capture], *, max_stacks: int = MAX_PEAK_STACKS) -> dict:
    multi = len(caps) > 1
    merged: dict[tuple, list[int]] = {}
    for cap in caps:
        root = (tuple(process_frame(cap)),) if multi else ()
        records = cap.reader.get_high_watermark_allocation_records(merge_threads=True)
        for rec in records:
            stack = rec.hybrid_stack_trace() if cap.native else rec.stack_trace()
            key = root + tuple(strip_launcher([(f[0], f[1], f[2]) for f in reversed(stack)]))
            acc = merged.setdefault(key, [0, 0])
            acc[0] += rec.size
            acc[1] += rec.n_allocations
    total_b = sum(v[0] for v in merged.values())
    total_n = sum(v[1] for v in merged.values())
    top = heapq.nlargest(max_stacks, merged.items(), key=lambda kv: kv[1][0])
    rest_b = total_b - sum(v[0] for _, v in top)
    rest_n = total_n - sum(v[1] for _, v in top)
    if rest_b > 0 or rest_n > 0:
        top.append(((tuple(OTHER),), [rest_b, rest_n]))
    ids: dict[tuple, int] = {}
    stacks = [{"frames": [ids.setdefault(f, len(ids)) for f in k], "bytes": v[0], "count": v[1]}
              for k, v in top]
    return {"bytes": total_b, "count": total_n, "frame_table": [list(f) for f in ids],
            "stacks": stacks,
            "dropped_stacks": max(0, len(merged) - len(top)),
            "per_process": [{"pid": c.pid, "peak_memory": c.peak_memory} for c in caps]}


def as_weighted_stacks(peak: dict) -> list[tuple[list[tuple[str, str, int]], int, int]]:
    """The peak as ``(frames, bytes, count)`` tuples with ``(func, file, line)`` frames."""
    table = [tuple(f) for f in peak["frame_table"]]
    return [([table[i] for i in s["frames"]], s["bytes"], s["count"]) for s in peak["stacks"]]
