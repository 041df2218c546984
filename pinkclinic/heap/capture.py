"""Opening memray captures: metadata, memory snapshots, and the over-time series.

memray writes a memory record (RSS, plus the tracked heap the reader derives)
about every 10 ms. ``FileReader(max_memory_records=N)`` keeps every k-th one so
that at most N remain, and numbers the temporal records' snapshots the same
way; ``MAX_SNAPSHOTS`` therefore bounds both the time resolution and the size of
every per-site interval list the reader builds, whatever the capture's length.

What it does not bound is the reader itself: to know what a free releases, memray's
reader keeps every live allocation in memory while it reads (about 100 B each), so
an open reader costs O(live allocations). The analysis therefore keeps one reader
open at a time: :func:`open_capture` reads the snapshots, ``close()`` drops the
reader, ``reopen()`` opens it again for the allocation passes.
"""

from __future__ import annotations

import glob
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from pinkclinic.errors import PinkError

MAX_SNAPSHOTS = 3000       # 60 s at memray's 10 ms -> 20 ms resolution; 10 min -> 200 ms
MAX_SERIES_POINTS = 600    # per process, for the memory-over-time chart

_CAPTURE_RE = re.compile(r"^memray-\d+\.bin(?:\.\d+)?$")
_PID_RE = re.compile(r"^memray-(\d+)\.bin(?:\.(\d+))?$")


@dataclass
class Capture:
    path: Path
    reader: object = None
    pid: int | None = None
    command_line: str = ""
    start: float | None = None
    end: float | None = None
    peak_memory: int = 0
    total_allocations: int = 0
    native: bool = False
    times: list[float] = field(default_factory=list)   # snapshot times, epoch s
    rss: list[int] = field(default_factory=list)
    heap: list[int] = field(default_factory=list)
    error: str | None = None
    max_snapshots: int = MAX_SNAPSHOTS

    def info(self) -> dict:
        return {"file": self.path.name, "pid": self.pid, "command_line": self.command_line,
                "start": self.start, "end": self.end, "peak_memory": self.peak_memory,
                "total_allocations": self.total_allocations, "native": self.native,
                "snapshots": len(self.times), "bytes": _size(self.path), "error": self.error}

    def peak_index(self) -> int:
        """The snapshot with the largest tracked heap (0 when there is none)."""
        return max(range(len(self.heap)), key=self.heap.__getitem__) if self.heap else 0

    def reopen(self) -> None:
        """Open the reader again (after ``close()``), for the allocation passes."""
        if self.reader is None:
            import memray

            self.reader = memray.FileReader(os.fspath(self.path),
                                            max_memory_records=self.max_snapshots)

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
            self.reader = None


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def pid_of(path: str | os.PathLike) -> int | None:
    """The PID a capture file is named after (``memray-P.bin``; ``memray-P.bin.C``: C)."""
    m = _PID_RE.match(os.path.basename(os.fspath(path)))
    return int(m.group(2) or m.group(1)) if m else None


def find_captures(folder: str | os.PathLike) -> list[Path]:
    """``memray-<PID>.bin`` files of a recording (``.bin.<PID>`` too: follow-fork children)."""
    names = glob.glob(os.path.join(os.fspath(folder), "memray-*.bin*"))
    return sorted(Path(n) for n in names if _CAPTURE_RE.match(os.path.basename(n)))


def open_capture(path: str | os.PathLike, *, max_snapshots: int = MAX_SNAPSHOTS) -> Capture:
    """Open one capture and read its snapshots; a broken file gives ``error``, not a raise."""
    import memray
    from memray._memray import set_log_level

    # memray's C++ reader logs truncated records (a capture cut by kill -9) straight
    # to stderr; the analysis reports what it could read instead.
    set_log_level(logging.CRITICAL + 10)
    cap = Capture(Path(path), max_snapshots=max_snapshots)
    try:
        reader = memray.FileReader(os.fspath(path), max_memory_records=max_snapshots)
    except (OSError, RuntimeError, ValueError) as e:
        cap.error = f"cannot read {cap.path.name}: {e}"
        return cap
    meta = reader.metadata
    if str(getattr(meta.file_format, "name", "")) == "AGGREGATED_ALLOCATIONS":
        reader.close()
        raise PinkError(f"{cap.path.name} is an aggregated memray capture; heap analysis "
                        "needs a full one (run memray without --aggregate)")
    cap.reader = reader
    cap.pid = meta.pid
    cap.command_line = meta.command_line
    cap.start = meta.start_time.timestamp()
    cap.end = meta.end_time.timestamp()
    cap.peak_memory = meta.peak_memory
    cap.total_allocations = meta.total_allocations
    cap.native = bool(meta.has_native_traces)
    for snap in reader.get_memory_snapshots():
        cap.times.append(snap.time / 1000.0)
        cap.rss.append(snap.rss)
        cap.heap.append(snap.heap)
    return cap


def downsample(cap: Capture, max_points: int = MAX_SERIES_POINTS) -> dict:
    """RSS and tracked heap over time, at most ``max_points``: each bucket keeps its maximum."""
    n = len(cap.times)
    step = max(1, -(-n // max_points))
    t, rss, heap = [], [], []
    for i in range(0, n, step):
        t.append(round(cap.times[i], 3))
        rss.append(max(cap.rss[i:i + step]))
        heap.append(max(cap.heap[i:i + step]))
    return {"pid": cap.pid, "t": t, "rss": rss, "heap": heap}
