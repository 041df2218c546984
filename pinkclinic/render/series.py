"""Chart series for the doctor report, downsampled so a long run stays small.

Every series is ``[[t, value], ...]`` in epoch seconds, binned to at least
:data:`MIN_BIN_S` and to at most :data:`MAX_POINTS` points, so a 60 s run at a
10 ms sample interval stays well under the report's size budget. A value of
``null`` is a gap: the chart lifts its pen there instead of drawing a straight line
across a time with no data (a stalled loop writes no lag records).
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from typing import Any

from pinkclinic.analysis.cpu import cpu_rates
from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.stats import quantile
from pinkclinic.analysis.traffic import failures
from pinkclinic.units import MB

MIN_BIN_S = 0.1
MAX_POINTS = 1200
USS_BIN_S = 0.5  # the sampler reads USS every 0.5 s (smaps_rollup is costly)
GAP_FACTOR = 3   # a gap is a pause of 3 typical steps (and at least 2 bins)
PALETTE = ["#d6336c", "#4263eb", "#2b8a3e", "#f08c00", "#7048e8", "#1098ad", "#c92a2a",
           "#5c940d", "#862e9c", "#e67700"]


def bin_size(t0: float, t1: float) -> float:
    return max(MIN_BIN_S, (t1 - t0) / MAX_POINTS)


def _r(v: float, nd: int = 3) -> float:
    return round(float(v), nd)


def _binned(points: list[tuple[float, float]], size: float, how: str = "mean") -> list[list[float]]:
    bins: dict[int, list[float]] = defaultdict(list)
    for t, v in points:
        bins[int(t // size)].append(v)
    out = []
    for k in sorted(bins):
        vs = bins[k]
        v = max(vs) if how == "max" else sum(vs) if how == "sum" else sum(vs) / len(vs)
        out.append([_r(k * size + size / 2), _r(v)])
    return out


def with_gaps(points: list[list], size: float) -> list[list]:
    """``points`` with a ``[t, None]`` wherever the data pauses for a while."""
    if len(points) < 3:
        return points
    steps = [b[0] - a[0] for a, b in pairwise(points)]
    limit = max(GAP_FACTOR * quantile(steps, 0.5), 2 * size)
    out = [points[0]]
    for a, b in pairwise(points):
        if b[0] - a[0] > limit:
            out.append([_r(a[0] + size / 2), None])
        out.append(b)
    return out


def _label(data: RecordingData, pid: int) -> str:
    samples = data.processes.get(pid) or [{}]
    name = samples[0].get("name") or "process"
    return f"{name} {pid}"


def _summed(per_pid: list[list[list[float]]], size: float) -> list[list[float]]:
    """The sum over processes per bin, each process's last value carried over its own
    bins without a sample (USS every 0.5 s, a sampler tick missed), and nothing once it
    is gone."""
    total: dict[int, float] = defaultdict(float)
    for pts in per_pid:
        if not pts:
            continue
        have = {int(t // size): v for t, v in pts}
        last = None
        for k in range(min(have), max(have) + 1):
            last = have.get(k, last)
            total[k] += last
    return [[_r(k * size + size / 2), _r(v)] for k, v in sorted(total.items())]


def cpu_series(data: RecordingData, size: float) -> list[dict[str, Any]]:
    """CPU % per process: the CPU counters' difference over each bin's time, never a mean
    of per-sample rates (10 ms ticks over a short gap read as thousands of percent)."""
    per_pid, points = [], []
    for i, (pid, samples) in enumerate(sorted(data.processes.items())):
        pts = [[_r(t), _r(100 * v)] for t, v in cpu_rates(samples, size, ceiling=data.cpu_count)]
        points.append(pts)
        per_pid.append({"name": _label(data, pid), "color": PALETTE[(i + 1) % len(PALETTE)],
                        "points": pts})
    if len(per_pid) > 1:
        return [{"name": "total", "color": PALETTE[0], "points": _summed(points, size)}, *per_pid]
    return per_pid


def memory_series(data: RecordingData, size: float) -> list[dict[str, Any]]:
    out, rss_all, uss_all = [], [], []
    uss_size = max(size, USS_BIN_S)
    many = len(data.processes) > 1
    for i, (pid, samples) in enumerate(sorted(data.processes.items())):
        rss = _binned([(s["t"], s.get("rss", 0) / MB) for s in samples], size)
        rss_all.append(rss)
        uss_all.append(_binned([(s["t"], s["uss"] / MB) for s in samples
                                if s.get("uss") is not None], uss_size))
        if many:
            out.append({"name": f"RSS {_label(data, pid)}", "color": PALETTE[(i + 2) % len(PALETTE)],
                        "points": rss})
    if not any(rss_all):
        return []
    lead = [{"name": "RSS total" if many else "RSS", "color": PALETTE[0],
             "points": _summed(rss_all, size)}]
    if any(uss_all):
        lead.append({"name": "USS total" if many else "USS", "color": PALETTE[1], "dash": True,
                     "points": _summed(uss_all, uss_size)})
    return lead + out


def lag_series(data: RecordingData, size: float) -> list[dict[str, Any]]:
    """p50 and max lag per loop; a stall (``block``) counts in the max at its end."""
    by_loop: dict[tuple, list[dict]] = defaultdict(list)
    for r in data.probe.get("lag", []):
        by_loop[(r.get("pid"), r.get("thread_id"))].append(r)
    stalls: dict[tuple, list[tuple[float, float]]] = defaultdict(list)
    for b in data.probe.get("block", []):
        stalls[(b.get("pid"), b.get("thread_id"))].append(
            (b["t"] + b.get("dur_ms", 0.0) / 1000, b.get("dur_ms", 0.0)))
    out = []
    keys = sorted(set(by_loop) | set(stalls), key=str)
    for i, key in enumerate(keys):
        recs = by_loop.get(key, [])
        tag = f" (pid {key[0]})" if len(keys) > 1 else ""
        maxes = [(r["t"], r.get("max_ms", 0.0)) for r in recs] + stalls.get(key, [])
        out.append({"name": f"p50{tag}", "color": PALETTE[(2 * i) % len(PALETTE)],
                    "points": with_gaps(_binned([(r["t"], r.get("p50_ms", 0.0)) for r in recs],
                                                size), size)})
        out.append({"name": f"max{tag}", "color": PALETTE[(2 * i + 1) % len(PALETTE)], "dash": True,
                    "points": with_gaps(_binned(maxes, size, "max"), size)})
    return out


def gc_series(data: RecordingData, t0: float, t1: float, size: float) -> list[dict[str, Any]]:
    """Share of wall time spent in GC per bin, in percent, per process."""
    gcs = data.probe.get("gc", [])
    if not gcs and not data.has_probe:
        return []
    by_pid: dict[Any, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for g in gcs:
        by_pid[g.get("pid")][int(g["t"] // size)] += g.get("dur_ms", 0.0) / 1000
    if not by_pid:  # the probe ran and saw no collection at all
        by_pid[next(iter(data.probe_headers), None)] = defaultdict(float)
    out = []
    nbins = range(int(t0 // size), int(t1 // size) + 1)
    for i, (pid, bins) in enumerate(sorted(by_pid.items(), key=lambda kv: str(kv[0]))):
        out.append({"name": f"GC time, pid {pid}", "color": PALETTE[i % len(PALETTE)],
                    "points": [[_r(k * size + size / 2), _r(min(100.0, 100 * bins.get(k, 0.0) / size))]
                               for k in nbins]})
    return out


def threads_series(data: RecordingData, size: float) -> list[dict[str, Any]]:
    out = []
    for i, (pid, samples) in enumerate(sorted(data.processes.items())):
        out.append({"name": f"threads {_label(data, pid)}", "color": PALETTE[(i + 3) % len(PALETTE)],
                    "points": _binned([(s["t"], s.get("threads", 0)) for s in samples], size, "max")})
    by_loop: dict[tuple, list[dict]] = defaultdict(list)
    for r in data.probe.get("tasks", []):
        by_loop[(r.get("pid"), r.get("thread_id"))].append(r)
    for i, (key, recs) in enumerate(sorted(by_loop.items(), key=lambda kv: str(kv[0]))):
        pts = _binned([(r["t"], r.get("n", 0)) for r in recs], size, "max")
        out.append({"name": f"asyncio tasks (pid {key[0]})", "color": PALETTE[i % len(PALETTE)],
                    "dash": True, "points": with_gaps(pts, size)})
    return out


def load_series(data: RecordingData) -> tuple[list[dict], list[dict]]:
    """req/s (every answer), errors/s (4xx and 5xx answers, failed connections and
    timeouts) and latency, one point per second of the load."""
    rows = data.load_timeline
    if not rows:
        return [], []
    mid = [r.get("t", 0) + 0.5 * r.get("dur_s", 1.0) for r in rows]
    rate = [{"name": "requests/s", "color": PALETTE[1],
             "points": [[_r(t), r.get("requests", 0) / max(0.05, r.get("dur_s", 1.0))]
                        for t, r in zip(mid, rows)]},
            {"name": "errors/s (4xx, 5xx, failed)", "color": PALETTE[6],
             "points": [[_r(t), failures([r])[1] / max(0.05, r.get("dur_s", 1.0))]
                        for t, r in zip(mid, rows)]}]
    lat = [{"name": "p50", "color": PALETTE[2], "points": [[_r(t), r.get("p50_ms", 0)] for t, r in zip(mid, rows)]},
           {"name": "p99", "color": PALETTE[0], "points": [[_r(t), r.get("p99_ms", 0)] for t, r in zip(mid, rows)]}]
    return rate, lat
