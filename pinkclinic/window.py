"""The load window: the one span of a recording that is analysed.

Like clinic doctor, pinkclinic analyses only the time when load was running:
``[timings.load_start, timings.load_end]`` from the manifest. Without a load phase
(``--no-load``), the window is the time the target listened (from ``listening``, else
``launched`` or ``attached``, to ``stopping``, else ``stopped`` or ``finished``). A run
cut short (pinkclinic itself killed) has no end mark: the caller says where its data
ends (``last_seen``), else the window ends when the target was being stopped.

Every analysis uses :func:`load_window`: doctor's analyzers (which also trim
:data:`EDGE_TRIM_S` off each edge, :func:`trimmed`), the heap analysis and
pyinstrument's flame graph.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

EDGE_TRIM_S = 0.2  # seconds doctor's analyzers cut from each edge, so start-up and wind-down do not count

_STARTS = ("listening", "launched", "attached")
_ENDS = ("stopping", "stopped", "finished")


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


def _first(timings: Mapping[str, float], keys: tuple[str, ...]) -> float | None:
    for key in keys:
        if timings.get(key):
            return timings[key]
    return None


def load_window(timings: Mapping[str, float],
                last_seen: Callable[[float], float] | None = None) -> Window | None:
    """The load window from the manifest's ``timings`` (see the module's doc), or ``None``
    when the target never started. ``last_seen(start)`` gives the end of a run cut short."""
    start, end = timings.get("load_start"), timings.get("load_end")
    if start is None:  # --no-load: the whole time the target listened
        start, end = _first(timings, _STARTS), _first(timings, _ENDS)
    if start is None:
        return None
    if end is None:  # cut short: the last thing the caller knows of, else the stop
        end = last_seen(start) if last_seen is not None else _first(timings, _ENDS)
    return None if end is None else Window(start, end)


def trimmed(window: Window | None) -> Window | None:
    """``window`` less :data:`EDGE_TRIM_S` on each side (unless that leaves too little)."""
    if window is None:
        return None
    trim = EDGE_TRIM_S if window.end - window.start > 4 * EDGE_TRIM_S else 0.0
    return Window(window.start + trim, window.end - trim)
