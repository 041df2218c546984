"""``LoadResult``: the outcome of a run, and its ``--json`` form (autocannon's field names).

Protocol-agnostic: built from a :class:`~pinkclinic.load.core.stats.Aggregator`,
whatever engine fed it.
"""

from __future__ import annotations

import math
import time
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timezone

from pinkclinic import redact
from pinkclinic.load.core.spec import LoadSpec
from pinkclinic.load.core.stats import (
    ALL_PERCENTILES,
    FD_LIMIT,
    TIMEOUT,
    Aggregator,
    counter_percentiles,
    ms,
)

SCHEMA_VERSION = 2  # 2: start/finish are ISO 8601 (as autocannon's), epochs in *_epoch


def pkey(p: float) -> str:
    """autocannon's key for a percentile: 2.5 -> p2_5, 99.99 -> p99_99."""
    return "p" + f"{p:g}".replace(".", "_")


def epoch_ms(t: float) -> float:
    """Epoch seconds rounded to the millisecond: the same instant ``iso_utc`` writes."""
    return round(t * 1000) / 1000


def iso_utc(t: float) -> str:
    """``2026-12-01T12:00:00.000Z``: JavaScript's Date in JSON, as autocannon writes it.

    Rounded to the nearest millisecond, as ``epoch_ms`` (the ``*_epoch`` fields) is:
    ``isoformat`` alone truncates, so the two could differ by a millisecond."""
    ms = round(t * 1000)
    whole = datetime.fromtimestamp(ms // 1000, timezone.utc).replace(microsecond=ms % 1000 * 1000)
    return whole.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class LoadResult:
    spec: LoadSpec
    start: float  # epoch seconds of the first measured second
    duration: float  # measured seconds
    requests: int
    bytes: int
    status: dict[int, int]
    errors: dict[str, int]
    reconnects: int
    inflight: int
    interrupted: bool
    latency: dict  # µs: n, mean, stdev, min, max, pcts {p: µs}
    samples: list[tuple[float, int, int]]  # per bin: (dur_s, requests, bytes)
    timeline: list[dict] = field(default_factory=list)
    histogram: str = ""  # HdrHistogram, base64 (µs)
    notes: list[str] = field(default_factory=list)
    connecting: int = 0  # connects still pending at the end (not yet -t old)
    worker_failures: list[str] = field(default_factory=list)  # workers that died mid-run
    ended_by: str = ""  # "deadline" or "stall": an -a run that could not finish (see notes)
    unsent: int = 0  # requests of such a run never sent
    # with ``spec.trace``: (step, sent µs, answered µs, status or 0) per request, flat, in
    # perf_counter microseconds (CLOCK_MONOTONIC: one clock for every process); not in to_json
    trace: array | None = None
    trace_dropped: int = 0

    @classmethod
    def from_aggregate(cls, spec: LoadSpec, agg: Aggregator, *, duration: float, inflight: int,
                       interrupted: bool, notes: list[str] | None = None, connecting: int = 0,
                       worker_failures: list[str] | None = None, ended_by: str = "",
                       unsent: int = 0, deadline_s: float = 0.0) -> LoadResult:
        notes = list(notes or [])
        if agg.errors.get(FD_LIMIT):
            notes.append(fd_limit_note(agg.errors[FD_LIMIT], spec))
        if ended_by:
            notes.append(unended_note(spec, ended_by, inflight, unsent, deadline_s))
        return cls(spec=spec, start=agg.t0 or time.time(), duration=duration,
                   requests=agg.requests, bytes=agg.bytes, status=dict(agg.status),
                   errors=dict(agg.errors), reconnects=agg.reconnects, inflight=inflight,
                   interrupted=interrupted, latency=agg.latency_summary(),
                   samples=list(agg.samples), timeline=list(agg.timeline),
                   histogram=agg.hist.encode().decode("ascii") if agg.lat_n else "",
                   notes=notes, connecting=connecting,
                   worker_failures=list(worker_failures or []), ended_by=ended_by, unsent=unsent,
                   trace=agg.trace if getattr(spec, "trace", False) else None,
                   trace_dropped=agg.trace_dropped)

    # -- derived ---------------------------------------------------------------------
    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def timeouts(self) -> int:
        return self.errors.get(TIMEOUT, 0)

    @property
    def non2xx(self) -> int:
        return sum(n for s, n in self.status.items() if not 200 <= s < 300)

    @property
    def rps(self) -> float:
        """Answered requests per second of the load window (answers that arrived in the
        end-of-run drain count; the drain's time does not): also ``rate.achieved``."""
        return self.requests / self.duration if self.duration > 0 else 0.0

    def per_second(self, which: int) -> list[float]:
        """Per-second samples of requests (which=1) or bytes (which=2), partial bins scaled."""
        full = [s for s in self.samples if s[0] >= 0.5] or list(self.samples)
        return [s[which] / s[0] if s[0] > 0 else float(s[which]) for s in full]

    def latency_ms(self, p: float) -> float:
        pcts = self.latency["pcts"]
        us = pcts.get(p)
        if us is None:
            return 0.0
        return ms(min(us, self.latency["max"]))

    # -- JSON ----------------------------------------------------------------------------
    def _sample_stats(self, which: int, total: int) -> dict:
        xs = self.per_second(which)
        n = len(xs)
        mean = total / self.duration if self.duration > 0 else 0.0
        sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / n) if n else 0.0
        counts: dict[int, int] = {}
        for x in xs:
            counts[round(x)] = counts.get(round(x), 0) + 1
        ints = dict(zip(ALL_PERCENTILES, counter_percentiles(counts, ALL_PERCENTILES), strict=True))
        out = {"average": round(mean, 2), "mean": round(mean, 2), "stddev": round(sd, 2),
               "min": round(min(xs), 2) if xs else 0, "max": round(max(xs), 2) if xs else 0,
               "total": total}
        out.update({pkey(p): v for p, v in ints.items()})
        return out

    def to_json(self, *, timeline: bool = True) -> dict:
        lat = self.latency
        latency = {"average": ms(lat["mean"]), "mean": ms(lat["mean"]), "stddev": ms(lat["stdev"]),
                   "min": ms(lat["min"]), "max": ms(lat["max"]), "totalCount": lat["n"]}
        latency.update({pkey(p): self.latency_ms(p) for p in ALL_PERCENTILES})
        requests = self._sample_stats(1, self.requests)
        requests["sent"] = self.requests + self.error_count + self.inflight
        classes = {f"{c}xx": sum(n for s, n in self.status.items() if s // 100 == c)
                   for c in range(1, 6)}
        spec = self.spec
        out = {
            "schema_version": SCHEMA_VERSION,
            "url": redact.url(spec.url),
            "connections": spec.connections,
            "pipelining": spec.pipelining,
            "workers": spec.workers,
            "duration": round(self.duration, 3),
            "start": iso_utc(self.start),
            "finish": iso_utc(self.start + self.duration),
            "start_epoch": epoch_ms(self.start),
            "finish_epoch": epoch_ms(self.start + self.duration),
            "sampleInt": 1000,
            "samples": len(self.samples),
            "latency": latency,
            "requests": requests,
            "throughput": self._sample_stats(2, self.bytes),
            "errors": self.error_count,
            "timeouts": self.timeouts,
            "errorsByKind": dict(sorted(self.errors.items())),
            "non2xx": self.non2xx,
            "mismatches": 0,
            "resets": self.errors.get("reset", 0),
            "reconnects": self.reconnects,
            "inflight": self.inflight,
            "connecting": self.connecting,
            "endedBy": self.ended_by or None,
            "unsent": self.unsent,
            "workerFailures": list(self.worker_failures),
            "interrupted": self.interrupted,
            "statusCodeStats": {str(s): {"count": n} for s, n in sorted(self.status.items())},
            **classes,
            "rate": None if spec.rate is None else {
                "target": spec.rate, "achieved": round(self.rps, 2), "corrected": spec.correction},
            "histogram": {"format": "HdrHistogram-base64", "unit": "us", "data": self.histogram},
            "notes": list(self.notes),
        }
        if timeline:
            out["timeline"] = list(self.timeline)
        return out


def unended_note(spec: LoadSpec, ended_by: str, inflight: int, unsent: int,
                 deadline_s: float) -> str:
    """Why an ``-a`` run ended before its amount, and how many of its requests never ended."""
    if ended_by == "deadline":
        why = (f"the run passed its deadline of {round(deadline_s, 1):g}s (for -a "
               f"{spec.amount} over -c {spec.connections} with -t {spec.timeout:g}s)")
    else:
        why = "the run stalled: no request was in flight and no connection could send more"
    return (f"{why}; {inflight} requests sent got no answer and {unsent} were never sent. "
            f"This is a bug of pinkclinic's load generator: please report it")


def fd_limit_note(n: int, spec: LoadSpec) -> str:
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return (f"{n} connects failed with 'too many open files' (fd-limit): this process may "
            f"open {soft} files (ulimit -n) for -c {spec.connections}; raise it with "
            f"`ulimit -n {max(spec.connections + 100, soft * 2)}` or use fewer connections")
