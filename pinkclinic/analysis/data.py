"""Read-only access to a recording's streams, limited to the analysis window.

The window is the load window (:mod:`pinkclinic.window`), less
:data:`~pinkclinic.window.EDGE_TRIM_S` on each side. A run cut short (pinkclinic itself
killed) has no ``load_end``: the window then ends where the load's own timeline
(``load.jsonl``) ends, or at the last process sample.
"""

from __future__ import annotations

import os
from collections import defaultdict
from functools import cached_property
from typing import Any

from pinkclinic.analysis.cpu import CpuUsage, cpu_usage
from pinkclinic.analysis.pyspy_window import read_timed, window_profile
from pinkclinic.errors import PinkError
from pinkclinic.jsonio import read_json, read_jsonl_header
from pinkclinic.probe import probe_headers, probe_paths, probe_records
from pinkclinic.profile import build_profile
from pinkclinic.profile.app_code import recording_app_modules
from pinkclinic.recording import Recording
from pinkclinic.window import Window, load_window, trimmed


class RecordingData:
    """Lazy, cached loaders over one recording."""

    def __init__(self, rec: Recording):
        self.rec = rec

    @property
    def timings(self) -> dict[str, float]:
        return self.rec.manifest.get("timings", {})

    @cached_property
    def load_window(self) -> Window | None:
        """The load window untrimmed: where every request of the load started."""
        return load_window(self.timings, self._last_seen)

    @cached_property
    def window(self) -> Window | None:
        return trimmed(self.load_window)

    def _last_seen(self, start: float) -> float:
        """The end of a run whose manifest was never finished."""
        rows = [r for r in self.load_timeline if isinstance(r.get("t"), (int, float))]
        if rows and "load_start" in self.timings:
            return max(start, max(r["t"] + float(r.get("dur_s") or 1.0) for r in rows))
        last = [ss[-1]["t"] for ss in self.processes.values() if ss]
        if last:
            return max(start, max(last))
        return max([v for v in self.timings.values() if isinstance(v, (int, float))] + [start])

    # -- streams -------------------------------------------------------------
    @cached_property
    def processes(self) -> dict[int, list[dict[str, Any]]]:
        """pid -> samples in time order (events such as spawn/exit left out)."""
        out: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for r in self.rec.read_stream("processes"):
            if "event" not in r and "pid" in r:
                out[int(r["pid"])].append(r)
        for samples in out.values():
            samples.sort(key=lambda r: r["t"])
        return dict(out)

    @cached_property
    def cpu_count(self) -> int:
        """Cores of the machine that recorded (the sampler's header), for capping rates."""
        path = self.rec.stream_file("processes")
        header = (read_jsonl_header(path) if path else None) or {}
        return int(header.get("cpu_count") or os.cpu_count() or 1)

    @cached_property
    def process_events(self) -> list[dict[str, Any]]:
        return [r for r in self.rec.read_stream("processes") if "event" in r]

    @cached_property
    def load_timeline(self) -> list[dict[str, Any]]:
        return self.rec.read_stream("load")

    @cached_property
    def load_result(self) -> dict[str, Any] | None:
        path = self.rec.file("load-result.json")
        return read_json(path) if path.exists() else None

    @cached_property
    def probe_headers(self) -> dict[int, dict[str, Any]]:
        return probe_headers(self.rec.path)

    @cached_property
    def probe(self) -> dict[str, list[dict[str, Any]]]:
        """type -> records from every process's probe stream, each with its ``pid``."""
        return probe_records(self.rec.path)

    def probe_in_window(self, kind: str) -> list[dict[str, Any]]:
        w = self.window
        recs = self.probe.get(kind, [])
        if w is None:
            return recs
        return [r for r in recs if w.contains(r.get("t", 0.0))]

    @cached_property
    def app_modules(self) -> frozenset[str]:
        """Installed packages that hold the served app (:mod:`pinkclinic.profile.app_code`),
        from the recorded command and every process's own command line."""
        return recording_app_modules(self.rec)

    @cached_property
    def cpu(self) -> CpuUsage | None:
        """CPU use per process in the window (:func:`pinkclinic.analysis.cpu.cpu_usage`)."""
        return cpu_usage(self.processes, self.window, self.cpu_count)

    @property
    def has_probe(self) -> bool:
        return bool(probe_paths(self.rec.path))

    @cached_property
    def profile(self):
        """py-spy's samples merged into a :class:`pinkclinic.profile.Profile` (or ``None``)."""
        if self.rec.stream_file("pyspy") is None:
            return None
        try:
            profile = build_profile(self.rec, profiler="py-spy")
        except PinkError:
            return None
        return profile if profile.stacks else None

    @cached_property
    def pyspy_threads(self):
        """py-spy's samples per thread, placed in time, probe threads left out
        (:mod:`pinkclinic.analysis.pyspy_window`); ``None`` without py-spy."""
        path = self.rec.stream_file("pyspy")
        info = self.rec.manifest.get("streams", {}).get("pyspy", {})
        if path is None or path.stat().st_size == 0:
            return None
        start = info.get("started") or self.timings.get("listening") or self.timings.get("attached")
        try:
            threads = read_timed(path, float(start or 0.0), float(info.get("rate_hz") or 100))
        except (OSError, ValueError):
            return None
        return threads or None

    @cached_property
    def window_profile(self):
        """The py-spy samples of the load window only, without pinkclinic's own threads and
        frames: what the analyzers and the report's flame graph use (or ``None``)."""
        if self.pyspy_threads is None:
            return None
        w = self.window
        return window_profile(self.pyspy_threads, None if w is None else (w.start, w.end))

    @property
    def stack_span(self) -> tuple[float, float] | None:
        """The part of the load window py-spy sampled (for rates of its samples)."""
        threads = self.pyspy_threads
        if not threads:
            return None
        first = min(t.t0 for t in threads if t.n)
        last = max(t.t0 + t.step * t.n for t in threads if t.n)
        w = self.window
        start, end = (first, last) if w is None else (max(first, w.start), min(last, w.end))
        return (start, end) if end > start else None
