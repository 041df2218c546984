"""The load timeline: the analysis window and the requests served over time.

Input is the load generator's per-second records (``load.jsonl``: ``{"t": bin_start,
"requests": n, ...}``) or plain ``(t, n)`` pairs. Requests inside a one-second bin
are taken as evenly spread over it, so cumulative requests are piecewise linear.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass

BIN_S = 1.0


@dataclass(frozen=True)
class Timeline:
    starts: tuple[float, ...]  # bin start times, sorted
    counts: tuple[int, ...]    # requests completed in each bin
    cum: tuple[int, ...]       # requests completed before each bin

    @classmethod
    def from_ticks(cls, ticks: Iterable[dict | tuple[float, int]]) -> Timeline | None:
        pairs = []
        for tick in ticks:
            if isinstance(tick, dict):
                t, n = tick.get("t"), tick.get("requests")
            else:
                t, n = tick
            if isinstance(t, (int, float)) and isinstance(n, (int, float)) and n >= 0:
                pairs.append((float(t), int(n)))
        if not pairs:
            return None
        pairs.sort()
        cum, total = [], 0
        for _, n in pairs:
            cum.append(total)
            total += n
        return cls(tuple(p[0] for p in pairs), tuple(p[1] for p in pairs), tuple(cum))

    @property
    def total(self) -> int:
        return self.cum[-1] + self.counts[-1]

    @property
    def span(self) -> tuple[float, float]:
        return self.starts[0], self.starts[-1] + BIN_S

    def cumulative(self, t: float) -> float:
        """Requests completed by time ``t`` (linear within a bin)."""
        i = bisect.bisect_right(self.starts, t) - 1
        if i < 0:
            return 0.0
        frac = min(1.0, max(0.0, (t - self.starts[i]) / BIN_S))
        return self.cum[i] + self.counts[i] * frac

    def served(self, t0: float, t1: float) -> float:
        return self.cumulative(t1) - self.cumulative(t0)

    def series(self) -> dict:
        """Requests per second, for the memory-over-time chart."""
        return {"t": list(self.starts), "requests": list(self.counts)}
