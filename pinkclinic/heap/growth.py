"""Live bytes per allocation site over the analysis window, streamed from memray.

memray's temporal records say, for each stack, which allocations were alive
between which two memory snapshots: intervals ``(allocated_before_snapshot,
deallocated_before_snapshot | None, n_allocations, n_bytes)``. An allocation is
alive at snapshot ``s`` when ``allocated <= s < deallocated``.

The window is cut into a fixed grid of at most ``MAX_GRID`` times shared by all
captures (so gunicorn workers add up). Each record is folded into its site's grid
vector as it streams past and then dropped: memory is O(sites x grid), not
O(allocations). :func:`read_temporal` makes the one pass over a capture's records that
this and the peak tree (:mod:`pinkclinic.heap.peak`) share. Sites are keyed by :func:`frames.site_of`; import-time and
profiler allocations are only counted, never attributed.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from pinkclinic.heap.capture import Capture
from pinkclinic.heap.frames import Frame, site_of, strip_launcher

MAX_GRID = 120        # points on the window's grid: enough for a fit, small per site
MIN_GRID = 8          # fewer snapshots than this in the window: not enough data

# Without --trace-python-allocators memray sees pymalloc's arenas, not the small
# objects (<= 512 B) inside them: an arena is mmap'ed by whichever allocation first
# finds the free pools exhausted, so its stack is incidental. Arenas are pooled
# into one pseudo-site instead of being blamed on that stack.
MMAP_ALLOCATOR = 14                      # memray.AllocatorType.MMAP
ARENA_SIZES = (1 << 20, 1 << 18)         # CPython >= 3.10, and 3.8-3.9 (64-bit)
SMALL_OBJECTS: Frame = ("[small objects in pymalloc arenas]", "<pymalloc>", 0)


@dataclass
class Site:
    frame: Frame
    area: str
    bytes: list[float]
    count: list[float]
    stack: list[Frame] = field(default_factory=list)   # the stack that grew most, outermost first
    stack_growth: float = float("-inf")


def grid_times(t0: float, t1: float, n: int) -> list[float]:
    if n < 2:
        return [t0]
    step = (t1 - t0) / (n - 1)
    return [t0 + i * step for i in range(n)]


def grid_indices(cap: Capture, grid: list[float]) -> list[int]:
    """The snapshot index in force at each grid time (-1 before the first snapshot)."""
    return [bisect.bisect_right(cap.times, t) - 1 for t in grid]


class SiteSeries:
    """Accumulates per-site live bytes and counts on the grid, capture by capture."""

    def __init__(self, grid: list[float]):
        self.grid = grid
        self.sites: dict[Frame, Site] = {}
        self.excluded = {"import": 0.0, "profiler": 0.0, "empty": 0.0}

    def begin(self, cap: Capture) -> None:
        """Start on a capture: map the grid onto its snapshots."""
        self.idx = grid_indices(cap, self.grid)
        # A snapshot index < 0 means "before this process existed": nothing alive.
        self.first_valid = bisect.bisect_left(self.idx, 0)

    def add(self, rec, stack_of) -> None:
        """Fold one temporal record in; ``stack_of()`` gives its innermost-first stack."""
        idx, first_valid = self.idx, self.first_valid
        k = len(idx)
        dbytes = [0.0] * (k + 1)
        dcount = [0.0] * (k + 1)
        touched = False
        for iv in rec.intervals:
            lo = max(first_valid, bisect.bisect_left(idx, iv.allocated_before_snapshot))
            d = iv.deallocated_before_snapshot
            hi = k if d is None else bisect.bisect_left(idx, d)
            if lo < hi:
                dbytes[lo] += iv.n_bytes
                dbytes[hi] -= iv.n_bytes
                dcount[lo] += iv.n_allocations
                dcount[hi] -= iv.n_allocations
                touched = True
        if not touched:
            return
        stack = stack_of()
        frame, area = site_of(stack)
        live_b = _prefix(dbytes, k)
        if frame is not None and is_arena(rec):
            frame, area = SMALL_OBJECTS, "pymalloc"
        if frame is None:
            self.excluded[area] = self.excluded.get(area, 0.0) + max(live_b)
            return
        self._fold(frame, area, stack, live_b, _prefix(dcount, k))

    def _fold(self, frame: Frame, area: str, stack: list[Frame],
              live_b: list[float], live_c: list[float]) -> None:
        site = self.sites.get(frame)
        if site is None:
            k = len(self.grid)
            site = self.sites[frame] = Site(frame, area, [0.0] * k, [0.0] * k)
        for i, v in enumerate(live_b):
            site.bytes[i] += v
        for i, v in enumerate(live_c):
            site.count[i] += v
        growth = live_b[-1] - live_b[0]
        if growth > site.stack_growth:
            site.stack_growth = growth
            site.stack = strip_launcher(stack[::-1])


def read_temporal(cap: Capture, consumers: list) -> None:
    """One pass over a capture's temporal records, shared by ``consumers`` (each has
    ``begin(cap)`` and ``add(rec, stack_of)``); a record's stack is built once, when a
    consumer first asks for it."""
    for c in consumers:
        c.begin(cap)
    native = cap.native
    for rec in cap.reader.get_temporal_allocation_records(merge_threads=True):
        memo: list = []

        def stack_of(rec=rec, memo=memo) -> list[Frame]:
            if not memo:
                st = rec.hybrid_stack_trace() if native else rec.stack_trace()
                memo.append([(f[0], f[1], f[2]) for f in st])
            return memo[0]

        for c in consumers:
            c.add(rec, stack_of)


def is_arena(rec) -> bool:
    """An mmap whose every allocation is exactly one pymalloc arena."""
    if rec.allocator != MMAP_ALLOCATOR or not rec.intervals:
        return False
    return all(iv.n_allocations > 0 and iv.n_bytes % iv.n_allocations == 0
               and iv.n_bytes // iv.n_allocations in ARENA_SIZES for iv in rec.intervals)


def _prefix(diff: list[float], k: int) -> list[float]:
    out, acc = [0.0] * k, 0.0
    for i in range(k):
        acc += diff[i]
        out[i] = acc
    return out
