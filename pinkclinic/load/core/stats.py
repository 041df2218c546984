"""Protocol-agnostic statistics: per-second bins, their exact merge, and the run totals.

Every engine (HTTP/1.1 today; WebSocket or HTTP/2 later) records into a
:class:`Recorder` on its hot path: a latency in µs appended to a list,
a status count bumped in a list. Once a second the recorder is cut into a
*bin*: a small dict of counts plus ``{latency_us: count}``. Bins from any
number of workers are merged exactly by the :class:`Aggregator`, which builds
the ``load.jsonl`` timeline and the run's HDR histogram.

hdrh is pure Python (~5 µs a recorded value): each bin's latencies are first folded
into the histogram's buckets (:meth:`Aggregator._fold`), and the histogram is filled once,
at the end, with one call per bucket. Recording every distinct latency of every bin
cost ~1 µs per request of a keep-alive run, a tenth of the load generator's CPU.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from itertools import accumulate
from operator import mul

from hdrh.histogram import HdrHistogram

HIST_MAX_US = 3_600_000_000  # one hour: corrected latencies may exceed the timeout
HIST_DIGITS = 3
PERCENTILES = (2.5, 50, 75, 90, 97.5, 99, 99.9, 99.99)
ALL_PERCENTILES = (0.001, 0.01, 0.1, 1, 2.5, 10, 25, 50, 75, 90, 97.5, 99, 99.9, 99.99, 99.999)
TIMEOUT = "timeout"
FD_LIMIT = "fd-limit"  # a connect found no free file descriptor (EMFILE / ENFILE)
# at the end of a run, answers still in flight are awaited this long at most (or -t)
DRAIN_MAX_S = 2.0
# per-request trace (``LoadSpec.trace``): 4 ints a request, (step, sent µs, answered µs,
# status or 0 for a failed request), perf_counter microseconds; kept for this many at most
TRACE_FIELDS = 4
TRACE_MAX_REQUESTS = 1_000_000


class Recorder:
    """The hot-path counters of one engine, cut into a bin once a second."""

    def __init__(self) -> None:
        # a list, not an array("q"): array.append converts and checks each value twice
        # (~0.1 µs a request), and Counter reads a list's ints without making new ones
        self.lat: list[int] = []
        self.status = [0] * 1000
        self.nbytes = 0
        self.errors: dict[str, int] = {}
        self.reconnects = 0
        self.trace: array | None = None  # an array("q") when the spec asks for a trace

    def error(self, kind: str, n: int = 1) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + n

    def cut(self, index: int, dur_s: float) -> dict:
        """Return the bin since the last cut and start a new one."""
        lat = Counter(self.lat)
        del self.lat[:]
        st = self.status
        status = {i: n for i, n in enumerate(st) if n}
        for i in status:
            st[i] = 0
        b = {"i": index, "dur_s": dur_s, "requests": sum(status.values()), "bytes": self.nbytes,
             "status": status, "errors": self.errors, "reconnects": self.reconnects,
             "lat": dict(lat)}
        if self.trace is not None:  # cut in place: the connections hold a reference
            b["trace"] = array("q", self.trace)
            del self.trace[:]
        self.nbytes = 0
        self.errors = {}
        self.reconnects = 0
        return b


def merge_bins(a: dict, b: dict) -> dict:
    """Add bin ``b`` into ``a`` (same index) exactly."""
    for key in ("requests", "bytes", "reconnects"):
        a[key] += b[key]
    a["dur_s"] = max(a["dur_s"], b["dur_s"])
    for key in ("status", "errors", "lat"):
        dst = a[key]
        for k, n in b[key].items():
            dst[k] = dst.get(k, 0) + n
    if "trace" in b:
        a.setdefault("trace", array("q")).extend(b["trace"])
    return a


def counter_percentiles(counts: dict[int, int], pcts: tuple[float, ...]) -> list[int]:
    """Exact percentiles (nearest rank) of a ``{value: count}`` histogram.

    The running counts are summed in C (``accumulate``) and each rank found by bisection:
    a Python loop over the values cost ~0.5 µs per request of a per-second bin."""
    keys = sorted(counts)
    cum = list(accumulate(map(counts.__getitem__, keys)))
    if not cum or not cum[-1]:
        return [0 for _ in pcts]
    total = cum[-1]
    return [keys[bisect_left(cum, max(1, math.ceil(total * p / 100)))] for p in pcts]


def ms(us: float) -> float:
    return round(us / 1000, 3)


class Aggregator:
    """Merges the bins of ``sources`` engines by index and keeps the run totals.

    ``t0`` is the epoch time of bin 0. A merged bin is emitted (to ``on_tick``)
    once every live source has delivered it, so ticks arrive in order.
    """

    def __init__(self, sources: int, t0: float, on_tick: Callable[[dict], None] | None = None):
        self.t0 = t0
        self.on_tick = on_tick
        self.live = set(range(sources))
        self.seen: dict[int, int] = {}  # source -> next index it will deliver
        self.pending: dict[int, dict] = {}
        self.next_emit = 0
        self.timeline: list[dict] = []
        self.samples: list[tuple[float, int, int]] = []  # (dur_s, requests, bytes)
        self._hist = HdrHistogram(1, HIST_MAX_US, HIST_DIGITS)
        self._mask = self._hist.sub_bucket_mask  # for _fold
        self._shift0 = self._hist.sub_bucket_half_count_magnitude + 1
        self.buckets: dict[int, int] = {}  # the latencies, folded: {bucket's lowest value: count}
        self.requests = self.bytes = self.reconnects = 0
        self.status: dict[int, int] = {}
        self.errors: dict[str, int] = {}
        self.lat_n = self.lat_sum = self.lat_sq = 0
        self.lat_min: int | None = None
        self.lat_max = 0
        self.trace = array("q")  # every traced request, TRACE_FIELDS ints each
        self.trace_dropped = 0  # requests past TRACE_MAX_REQUESTS

    def add(self, source: int, b: dict) -> None:
        self.seen[source] = b["i"] + 1
        if b["i"] in self.pending:
            merge_bins(self.pending[b["i"]], b)
        else:
            self.pending[b["i"]] = b
        self._emit_ready()

    def done(self, source: int) -> None:
        self.live.discard(source)
        self._emit_ready()

    def finish(self) -> None:
        self.live.clear()
        self._emit_ready()

    def _emit_ready(self) -> None:
        while self.pending:
            i = self.next_emit
            if any(self.seen.get(s, 0) <= i for s in self.live):
                return
            b = self.pending.pop(i, None)
            self.next_emit += 1
            if b is not None:
                self._account(b)

    def _account(self, b: dict) -> None:
        lat = b["lat"]
        held = lat  # the values as the histogram and the sums hold them
        if lat and max(lat) > HIST_MAX_US:  # rare: clamp to the histogram's range
            held = {}
            for v, n in lat.items():
                v = min(v, HIST_MAX_US)
                held[v] = held.get(v, 0) + n
        self._fold(held)
        keys, counts = held.keys(), held.values()
        s = sum(map(mul, keys, counts))  # in C: a bin has a distinct value per request or so
        sq = sum(map(mul, map(mul, keys, keys), counts))
        n_lat = sum(counts)
        if n_lat:
            lo, hi = min(lat), max(lat)
            self.lat_min = lo if self.lat_min is None else min(self.lat_min, lo)
            self.lat_max = max(self.lat_max, hi)
        self.lat_n += n_lat
        self.lat_sum += s
        self.lat_sq += sq
        self.requests += b["requests"]
        self.bytes += b["bytes"]
        self.reconnects += b["reconnects"]
        for k, n in b["status"].items():
            self.status[k] = self.status.get(k, 0) + n
        for k, n in b["errors"].items():
            self.errors[k] = self.errors.get(k, 0) + n
        self.samples.append((b["dur_s"], b["requests"], b["bytes"]))
        if "trace" in b:
            room = TRACE_MAX_REQUESTS * TRACE_FIELDS - len(self.trace)
            got = b["trace"]
            self.trace.extend(got[:max(0, room)])
            self.trace_dropped += max(0, len(got) - max(0, room)) // TRACE_FIELDS
        p50, p99 = counter_percentiles(lat, (50, 99))
        rec = {"t": round(self.t0 + b["i"], 3), "dur_s": round(b["dur_s"], 3),
               "requests": b["requests"], "bytes": b["bytes"],
               "errors": sum(b["errors"].values()), "timeouts": b["errors"].get(TIMEOUT, 0),
               "status": {str(k): n for k, n in sorted(b["status"].items())},
               "p50_ms": ms(p50), "p99_ms": ms(p99), "max_ms": ms(max(lat) if lat else 0)}
        self.timeline.append(rec)
        if self.on_tick is not None:
            self.on_tick(rec)

    def _fold(self, lat: dict[int, int]) -> None:
        """Add ``{µs: count}`` into ``buckets``, each value at the lowest value of its
        bucket in ``_hist`` (hdrh's ``get_lowest_equivalent_value``, its arithmetic
        inlined: this runs once per distinct latency of every bin)."""
        buckets = self.buckets
        get = buckets.get
        mask, shift0 = self._mask, self._shift0
        for v, n in lat.items():
            if v >= 2048:  # below 2048 µs, every value has a bucket of its own
                sh = (v | mask).bit_length() - shift0
                v = v >> sh << sh
            buckets[v] = get(v, 0) + n

    @property
    def hist(self) -> HdrHistogram:
        """The run's HDR histogram (µs) of the latencies accounted so far."""
        if self.buckets:
            hist = self._hist
            for v, n in self.buckets.items():
                hist.record_value(v, n)
            self.buckets = {}
        return self._hist

    # -- whole-run latency summary (µs) ------------------------------------------------
    def latency_summary(self) -> dict:
        n = self.lat_n
        mean = self.lat_sum / n if n else 0.0
        var = max(0.0, self.lat_sq / n - mean * mean) if n else 0.0
        return {"n": n, "mean": mean, "stdev": math.sqrt(var), "min": self.lat_min or 0,
                "max": self.lat_max,
                "pcts": self._percentiles() if n else dict.fromkeys(ALL_PERCENTILES, 0)}

    def _percentiles(self) -> dict:
        """ALL_PERCENTILES in one pass over the histogram (hdrh's get_value_at_percentile
        walks it from the start for each)."""
        found = self.hist.get_percentile_to_value_dict(ALL_PERCENTILES)
        return {p: found.get(p, 0) for p in ALL_PERCENTILES}
