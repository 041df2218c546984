"""The profile model: weighted stacks per thread, frames with code areas.

A :class:`Profile` holds

* ``frames`` - distinct frames keyed by (function, file), or (function, file, line)
  when built with ``lines=True``. A merged frame's ``line`` is its most-sampled line;
* ``threads`` - one :class:`ThreadInfo` per (pid, tid) seen;
* ``stacks`` - ``{(thread index, frame ids outermost first): [weight, count]}``.

That is the call tree per thread in its most compact form (equal stacks merged);
the merged tree per process or for all processes is a grouping of it, which the
exporters and the browser do. Weights are in ``unit``: ``samples``, ``seconds``
or ``bytes`` (heap, where ``count`` is the number of allocations).

``heat``, when built with ``heat=True``, is each app frame's busy weight per line.

``order``, when the reader was asked for it (exports), is the samples in time order:
``[(keys, seq), ...]`` per source profile, ``seq`` indexing ``keys`` (stacks keys).

Build one with :class:`~pinkclinic.profile.builder.ProfileBuilder`, or from the
generic input :func:`~pinkclinic.profile.builder.from_stacks`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pinkclinic.profile.areas import IDLE, area_sort_key

UNITS = ("samples", "seconds", "bytes")


class Frame(NamedTuple):
    function: str
    file: str
    line: int
    area: str


class ThreadInfo(NamedTuple):
    pid: int | None
    tid: int | None
    name: str
    process: str  # the process's command line, when known


class FunctionStat(NamedTuple):
    frame: int
    self: float
    total: float
    self_count: int
    total_count: int


@dataclass
class Profile:
    unit: str
    frames: list[Frame]
    threads: list[ThreadInfo]
    stacks: dict[tuple[int, tuple[int, ...]], list]
    has_counts: bool = False
    meta: dict[str, Any] = field(default_factory=dict)
    order: list | None = None
    # {frame: {line: [self, total]}}: the app frames' busy weight per source line, when
    # built with heat=True (the flame page's source heatmap; pinkclinic.profile.heat)
    heat: dict[int, dict[int, list]] | None = None

    # -- queries -----------------------------------------------------------------
    def is_idle(self, frames: tuple[int, ...]) -> bool:
        return bool(frames) and self.frames[frames[-1]].area == IDLE

    def iter_stacks(self, *, idle: bool = True, threads: Iterable[int] | None = None):
        """Yield ``(thread, frames, weight, count)``."""
        keep = None if threads is None else set(threads)
        for (t, frames), (w, c) in self.stacks.items():
            if keep is not None and t not in keep:
                continue
            if not idle and self.is_idle(frames):
                continue
            yield t, frames, w, c

    def total(self, *, idle: bool = True) -> float:
        return sum(w for _, _, w, _ in self.iter_stacks(idle=idle))

    def functions(self, *, idle: bool = False) -> list[FunctionStat]:
        """Self and total weight per frame, hottest self first (recursion counted once)."""
        selfw: dict[int, float] = {}
        tot: dict[int, float] = {}
        selfc: dict[int, int] = {}
        totc: dict[int, int] = {}
        for _, frames, w, c in self.iter_stacks(idle=idle):
            if not frames:
                continue
            leaf = frames[-1]
            selfw[leaf] = selfw.get(leaf, 0) + w
            selfc[leaf] = selfc.get(leaf, 0) + c
            for f in set(frames):
                tot[f] = tot.get(f, 0) + w
                totc[f] = totc.get(f, 0) + c
        out = [FunctionStat(f, selfw.get(f, 0), tot[f], selfc.get(f, 0), totc[f]) for f in tot]
        out.sort(key=lambda s: (-s.self, -s.total, s.frame))
        return out

    def areas(self) -> list[str]:
        return sorted({f.area for f in self.frames}, key=area_sort_key)

    def processes(self) -> dict[int | None, str]:
        out: dict[int | None, str] = {}
        for t in self.threads:
            out.setdefault(t.pid, t.process)
        return out

