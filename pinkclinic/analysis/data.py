"""Read-only access to a recording's streams, limited to the analysis window.

Like clinic doctor, pinkclinic analyses only the time when load was running:
``[timings.load_start, timings.load_end]``, trimmed by :data:`EDGE_TRIM_S` on
each side so start-up and wind-down do not count. Without a load phase
(``--no-load``), the window is the time the target was listening.
"""

from __future__ import annotations

import glob
import os
from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pinkclinic.jsonio import read_json, read_jsonl, read_jsonl_header
from pinkclinic.recording import Recording

EDGE_TRIM_S = 0.2  # seconds cut from each edge of the load window


@dataclass(frozen=True)
class Window:
    start: float
    end: float

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)

    def contains(self, t: float) -> bool:
        return self.start <= t <= self.end

    def overlap(self, t0: float, t1: float) -> float:
        return max(0.0, min(t1, self.end) - max(t0, self.start))


class RecordingData:
    """Lazy, cached loaders over one recording."""

    def __init__(self, rec: Recording):
        self.rec = rec

    @property
    def timings(self) -> dict[str, float]:
        return self.rec.manifest.get("timings", {})

    @cached_property
    def window(self) -> Window | None:
        t = self.timings
        start = t.get("load_start")
        end = t.get("load_end")
        if start is None:  # --no-load: the whole time the target listened
            start = t.get("listening") or t.get("launched") or t.get("attached")
            end = t.get("stopping") or t.get("stopped") or t.get("finished")
        if start is None:
            return None
        if end is None:  # cut short: take the last thing we know of
            end = max([v for v in t.values() if isinstance(v, (int, float))] + [start])
        trim = EDGE_TRIM_S if end - start > 4 * EDGE_TRIM_S else 0.0
        return Window(start + trim, end - trim)

    # -- streams -------------------------------------------------------------
    def _stream(self, name: str) -> list[dict[str, Any]]:
        path = self.rec.stream_file(name)
        return list(read_jsonl(path)) if path else []

    @cached_property
    def processes(self) -> dict[int, list[dict[str, Any]]]:
        """pid -> samples in time order (events such as spawn/exit left out)."""
        out: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in self._stream("processes"):
            if "event" not in r and "pid" in r:
                out[int(r["pid"])].append(r)
        for samples in out.values():
            samples.sort(key=lambda r: r["t"])
        return dict(out)

    @cached_property
    def process_events(self) -> list[dict[str, Any]]:
        return [r for r in self._stream("processes") if "event" in r]

    @cached_property
    def load_timeline(self) -> list[dict[str, Any]]:
        return self._stream("load")

    @cached_property
    def load_result(self) -> dict[str, Any] | None:
        path = self.rec.file("load-result.json")
        return read_json(path) if path.exists() else None

    @cached_property
    def probe_files(self) -> list[str]:
        return sorted(glob.glob(os.path.join(self.rec.path, "probe-*.jsonl")))

    @cached_property
    def probe_headers(self) -> dict[int, dict[str, Any]]:
        out = {}
        for path in self.probe_files:
            header = read_jsonl_header(path)
            if header and "pid" in header:
                out[int(header["pid"])] = header
        return out

    @cached_property
    def probe(self) -> dict[str, list[dict[str, Any]]]:
        """type -> records from every process's probe stream, each with its ``pid``."""
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for path in self.probe_files:
            header = read_jsonl_header(path) or {}
            pid = header.get("pid")
            for r in read_jsonl(path):
                r.setdefault("pid", pid)
                out[r.get("type", "?")].append(r)
        for records in out.values():
            records.sort(key=lambda r: r.get("t", 0.0))
        return dict(out)

    def probe_in_window(self, kind: str) -> list[dict[str, Any]]:
        w = self.window
        recs = self.probe.get(kind, [])
        if w is None:
            return recs
        return [r for r in recs if w.contains(r.get("t", 0.0))]

    @cached_property
    def cpu(self):
        """CPU use per process in the window (:class:`pinkclinic.analysis.cpu.CpuUsage`)."""
        from pinkclinic.analysis.cpu import cpu_usage

        return cpu_usage(self)

    @property
    def has_probe(self) -> bool:
        return bool(self.probe_files)

    @cached_property
    def profile(self):
        """py-spy's samples merged into a :class:`pinkclinic.profile.Profile` (or ``None``)."""
        if self.rec.stream_file("pyspy") is None:
            return None
        from pinkclinic.errors import PinkError
        from pinkclinic.profile import build_profile

        try:
            profile = build_profile(self.rec, profiler="py-spy")
        except PinkError:
            return None
        return profile if profile.stacks else None

    @property
    def pyspy_span(self) -> tuple[float, float] | None:
        """Wall-clock span py-spy sampled: from its start to the stop of the run."""
        info = self.rec.manifest.get("streams", {}).get("pyspy", {})
        start = info.get("started")
        end = self.timings.get("stopping") or self.timings.get("stopped")
        return (start, end) if start and end and end > start else None
