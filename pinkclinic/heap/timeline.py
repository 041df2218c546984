"""The load timeline: the analysis window and the requests served over time.

Input is the load generator's per-second records (``load.jsonl``: ``{"t": bin_start,
"dur_s": length, "requests": n, "status": {"200": n, ...}, "errors": n}``) or plain
``(t, n)`` pairs. Only 2xx and 3xx responses count as *served*: a request that failed
with a 500 may never have reached the code that leaks, so pricing growth per
request off it would be wrong. A record without ``status`` counts all its requests as
served. Requests inside a bin are taken as evenly spread over its ``dur_s`` (1 s
unless the record says otherwise: the last bin of an interrupted load is shorter),
so cumulative requests are piecewise linear.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field

BIN_S = 1.0


def _ok(status: str) -> bool:
    return len(status) == 3 and status[0] in "23"


@dataclass(frozen=True)
class Timeline:
    starts: tuple[float, ...]  # bin start times, sorted
    durs: tuple[float, ...]    # bin lengths, s
    counts: tuple[int, ...]    # requests served (2xx/3xx) in each bin
    cum: tuple[int, ...]       # requests served before each bin
    failed: tuple[int, ...] = ()       # other responses and connection errors, per bin
    status: dict = field(default_factory=dict)   # status code -> responses, whole load
    errors: int = 0            # requests that got no response (connection errors, timeouts)

    @classmethod
    def from_ticks(cls, ticks: Iterable[dict | tuple[float, int]]) -> Timeline | None:
        rows = []
        status: dict[str, int] = {}
        errors = 0
        for tick in ticks:
            if isinstance(tick, dict):
                t, n, dur = tick.get("t"), tick.get("requests"), tick.get("dur_s", BIN_S)
                codes = tick.get("status") if isinstance(tick.get("status"), dict) else None
                err = tick.get("errors") if isinstance(tick.get("errors"), int) else 0
            else:
                (t, n), dur, codes, err = tick, BIN_S, None, 0
            if not (isinstance(t, (int, float)) and isinstance(n, (int, float)) and n >= 0):
                continue
            if not isinstance(dur, (int, float)) or dur <= 0:
                dur = BIN_S
            ok = int(n) if codes is None else sum(int(v) for k, v in codes.items() if _ok(str(k)))
            for k, v in (codes or {}).items():
                status[str(k)] = status.get(str(k), 0) + int(v)
            errors += err
            rows.append((float(t), float(dur), ok, max(0, int(n) - ok) + err))
        if not rows:
            return None
        rows.sort()
        cum, total = [], 0
        for row in rows:
            cum.append(total)
            total += row[2]
        return cls(tuple(r[0] for r in rows), tuple(r[1] for r in rows),
                   tuple(r[2] for r in rows), tuple(cum), tuple(r[3] for r in rows),
                   dict(sorted(status.items())), errors)

    @property
    def total(self) -> int:
        return self.cum[-1] + self.counts[-1]

    @property
    def span(self) -> tuple[float, float]:
        return self.starts[0], self.starts[-1] + self.durs[-1]

    @property
    def attempts(self) -> int:
        """Every request that ended: served, failed with a status, or with no response."""
        return self.total + sum(self.failed)

    def cumulative(self, t: float) -> float:
        """Requests served by time ``t`` (linear within a bin)."""
        i = bisect.bisect_right(self.starts, t) - 1
        if i < 0:
            return 0.0
        frac = min(1.0, max(0.0, (t - self.starts[i]) / self.durs[i]))
        return self.cum[i] + self.counts[i] * frac

    def served(self, t0: float, t1: float) -> float:
        return self.cumulative(t1) - self.cumulative(t0)

    def load_info(self) -> dict:
        """What the load got back: served, failed, by status code, with no response."""
        return {"attempts": self.attempts, "served": self.total, "failed": sum(self.failed),
                "status": self.status, "no_response": self.errors}

    def series(self) -> dict:
        """Requests per second (served, and failed), for the memory-over-time chart."""
        return {"t": list(self.starts),
                "requests": [round(n / d, 1) for n, d in zip(self.counts, self.durs, strict=True)],
                "failed": [round(n / d, 1) for n, d in zip(self.failed, self.durs, strict=True)]}
