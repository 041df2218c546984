"""Synthetic heap data: sites on a grid, and memray-shaped temporal records.

* :func:`site` builds a :class:`pinkclinic.heap.growth.Site` (what ``SiteSeries``
  accumulates) from a function of the grid's time, for :func:`pinkclinic.heap.suspects.rank`.
* :func:`record` builds a temporal allocation record with the fields
  ``SiteSeries.add`` and ``PeakTree.add`` read from memray's
  ``TemporalAllocationRecord`` (``intervals`` of ``allocated_before_snapshot``,
  ``deallocated_before_snapshot``, ``n_allocations``, ``n_bytes``; ``allocator``), and
  :func:`capture` a :class:`pinkclinic.heap.capture.Capture` with snapshot times and
  heap sizes only (what ``begin()`` reads). :func:`open_capture` gives one with a
  :class:`Reader` over such records, for ``heap.analyse._analyse``. No memray file is
  involved: these test the folding and the rules; tests/heap/test_samples.py and
  test_recording.py run memray for real.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pinkclinic.heap.capture import Capture
from pinkclinic.heap.growth import SMALL_OBJECTS, Site, grid_times
from pinkclinic.heap.timeline import Timeline

APP = "/srv/app/views.py"
GRID = grid_times(1000.0, 1010.0, 41)   # 10 s, a point every 250 ms


def site(func: str, live: Callable[[float], float], *, area: str = "app", line: int = 10,
         file: str = APP, grid: list[float] = GRID, bytes_per_object: int = 100) -> Site:
    """A site whose live bytes at grid time ``t`` (seconds since the grid's start) are
    ``live(t)``."""
    ys = [float(live(t - grid[0])) for t in grid]
    frame = SMALL_OBJECTS if area == "pymalloc" else (func, file, line)
    return Site(frame, area, ys, [y / bytes_per_object for y in ys],
                stack=[("<module>", APP, 1), frame])


def sites(*rows: Site) -> dict:
    return {s.frame: s for s in rows}


def steady_load(rps: float = 100.0, t0: float = 1000.0, seconds: int = 10) -> Timeline:
    return Timeline.from_ticks([{"t": t0 + i, "requests": int(rps)} for i in range(seconds)])


@dataclass
class Interval:
    allocated_before_snapshot: int
    deallocated_before_snapshot: int | None
    n_allocations: int
    n_bytes: int


@dataclass
class Record:
    intervals: list[Interval]
    allocator: int = 1  # malloc
    stack: list = field(default_factory=list)  # innermost first, as memray gives it

    def stack_trace(self) -> list:
        return [tuple(f) for f in self.stack]  # (function, file, line), innermost first


def record(stack: list, *intervals: tuple, allocator: int = 1) -> Record:
    """``intervals``: ``(allocated_before, deallocated_before | None, n, bytes)``;
    ``stack`` outermost first (turned innermost first, as memray's)."""
    return Record([Interval(*iv) for iv in intervals], allocator, list(stack)[::-1])


def capture(times: list[float], heap: list[int] | None = None, *, pid: int = 4000) -> Capture:
    return Capture(Path(f"memray-{pid}.bin"), pid=pid, command_line="python app.py",
                   times=list(times), heap=list(heap or [0] * len(times)),
                   peak_memory=max(heap or [0]))


def feed(consumer, cap: Capture, records: list[Record]) -> None:
    """What :func:`pinkclinic.heap.growth.read_temporal` does, from these records."""
    consumer.begin(cap)
    for r in records:
        consumer.add(r, lambda r=r: r.stack)


class Reader:
    """Stands in for an open ``memray.FileReader`` over these records: the one method the
    temporal pass calls, and ``close()``."""

    def __init__(self, records: list[Record]):
        self.records = records
        self.closed = False

    def get_temporal_allocation_records(self, merge_threads: bool = True):
        assert merge_threads
        return iter(self.records)

    def close(self) -> None:
        self.closed = True


def open_capture(times: list[float], heap: list[int], records: list[Record], *,
                 pid: int = 4000) -> Capture:
    """A capture as :func:`pinkclinic.heap.capture.open_capture` leaves it (snapshots read,
    its reader open), over synthetic records, for ``pinkclinic.heap.analyse._analyse``."""
    cap = capture(times, heap, pid=pid)
    cap.rss = [h + (20 << 20) for h in heap]
    cap.start, cap.end = times[0], times[-1]
    cap.reader = Reader(records)
    return cap
