"""What a scenario reports per phase and in total: req/s, latency percentiles, errors,
and virtual users created / completed / failed. The JSON uses bench's names where they
exist (``requests.total``, ``requests.average``, ``latency.p50`` in ms, ``errorsByKind``).
"""

from __future__ import annotations

import math
from array import array
from collections import Counter

from pinkclinic.load.core.result import pkey
from pinkclinic.load.core.stats import PERCENTILES, counter_percentiles, ms


class PhaseStats:
    def __init__(self, phase) -> None:
        self.phase = phase  # None for the total
        self.start = self.end = 0.0
        self.arrivals: list[float] = []  # epoch times users actually arrived
        self.created = self.completed = self.failed = self.skipped = 0
        self.lat = array("q")
        self.status: Counter = Counter()
        self.errors: Counter = Counter()
        self.nbytes = 0

    def response(self, status: int, lat_us: int, nbytes: int) -> None:
        self.lat.append(lat_us)
        self.status[status] += 1
        self.nbytes += nbytes

    def error(self, kind: str) -> None:
        self.errors[kind] += 1

    @property
    def duration(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def requests(self) -> int:
        return sum(self.status.values())

    def arrival_rate(self) -> float:
        """Users that really arrived inside the phase's window, per second of it."""
        d = self.duration
        return sum(1 for t in self.arrivals if self.start <= t < self.end) / d if d else 0.0

    def latency(self) -> dict:
        counts = Counter(self.lat)
        n = len(self.lat)
        pcts = dict(zip(PERCENTILES, counter_percentiles(counts, PERCENTILES)))
        mean = sum(self.lat) / n if n else 0.0
        sd = math.sqrt(sum((x - mean) ** 2 for x in self.lat) / n) if n else 0.0
        out = {pkey(p): ms(v) for p, v in pcts.items()}
        out.update({"mean": ms(mean), "average": ms(mean), "stddev": ms(sd),
                    "min": ms(min(self.lat)) if n else 0.0, "max": ms(max(self.lat)) if n else 0.0,
                    "totalCount": n})
        return out

    def to_json(self) -> dict:
        d = self.duration
        out = {"duration": round(d, 3), "start": round(self.start, 3),
               "requests": {"total": self.requests,
                            "average": round(self.requests / d, 2) if d else 0.0},
               "latency": self.latency(), "throughput": {"total": self.nbytes},
               "errors": sum(self.errors.values()), "errorsByKind": dict(sorted(self.errors.items())),
               "non2xx": sum(n for s, n in self.status.items() if not 200 <= s < 300),
               "statusCodeStats": {str(s): {"count": n} for s, n in sorted(self.status.items())},
               "vusers": {"created": self.created, "completed": self.completed,
                          "failed": self.failed, "skipped": self.skipped}}
        ph = self.phase
        if ph is not None:
            target = ph.rate if ph.ramp_to is None else (ph.rate + ph.ramp_to) / 2
            out["name"] = ph.name
            out["arrivalRate"] = {"from": ph.rate, "to": ph.ramp_to if ph.ramp_to is not None
                                  else ph.rate, "target_mean": round(target, 3),
                                  "achieved": round(self.arrival_rate(), 3)}
        return out
