"""Chart series for the doctor report, downsampled so a long run stays small.

Every series is ``[[t, value], ...]`` in epoch seconds, binned to at least
:data:`MIN_BIN_S` and to at most :data:`MAX_POINTS` points, so a 60 s run at a
10 ms sample interval stays well under the report's size budget.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import pairwise
from typing import Any

from pinkclinic.analysis.data import RecordingData

MIN_BIN_S = 0.1
MAX_POINTS = 1200
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


def _label(data: RecordingData, pid: int) -> str:
    samples = data.processes.get(pid) or [{}]
    name = samples[0].get("name") or "process"
    return f"{name} {pid}"


def cpu_series(data: RecordingData, size: float) -> list[dict[str, Any]]:
    per_pid, total = [], defaultdict(float)
    for i, (pid, samples) in enumerate(sorted(data.processes.items())):
        pts = []
        for a, b in pairwise(samples):
            dt = b["t"] - a["t"]
            if dt > 0:
                used = (b["cpu_user_s"] + b["cpu_system_s"]) - (a["cpu_user_s"] + a["cpu_system_s"])
                pts.append((b["t"], 100 * max(0.0, used) / dt))
        binned = _binned(pts, size)
        for t, v in binned:
            total[t] += v
        per_pid.append({"name": _label(data, pid), "color": PALETTE[(i + 1) % len(PALETTE)],
                        "points": binned})
    out = per_pid
    if len(per_pid) > 1:
        out = [{"name": "total", "color": PALETTE[0], "points": [[t, _r(v)] for t, v in sorted(total.items())]}, *per_pid]
    return out


def memory_series(data: RecordingData, size: float) -> list[dict[str, Any]]:
    out = []
    rss_total, uss_total = defaultdict(float), defaultdict(float)
    for i, (pid, samples) in enumerate(sorted(data.processes.items())):
        rss = _binned([(s["t"], s.get("rss", 0) / 2**20) for s in samples], size)
        uss = _binned([(s["t"], s["uss"] / 2**20) for s in samples if s.get("uss") is not None], size)
        for t, v in rss:
            rss_total[t] += v
        for t, v in uss:
            uss_total[t] += v
        if len(data.processes) > 1:
            out.append({"name": f"RSS {_label(data, pid)}", "color": PALETTE[(i + 2) % len(PALETTE)],
                        "points": rss})
    lead = [{"name": "RSS" if len(data.processes) <= 1 else "RSS total", "color": PALETTE[0],
             "points": [[t, _r(v)] for t, v in sorted(rss_total.items())]}]
    if uss_total:
        lead.append({"name": "USS" if len(data.processes) <= 1 else "USS total", "color": PALETTE[1],
                     "points": [[t, _r(v)] for t, v in sorted(uss_total.items())], "dash": True})
    return lead + out if rss_total else []


def lag_series(data: RecordingData, size: float) -> list[dict[str, Any]]:
    by_loop: dict[tuple, list[dict]] = defaultdict(list)
    for r in data.probe.get("lag", []):
        by_loop[(r.get("pid"), r.get("thread_id"))].append(r)
    out = []
    many = len(by_loop) > 1
    for i, (key, recs) in enumerate(sorted(by_loop.items(), key=lambda kv: str(kv[0]))):
        tag = f" (pid {key[0]})" if many else ""
        out.append({"name": f"p50{tag}", "color": PALETTE[(2 * i) % len(PALETTE)],
                    "points": _binned([(r["t"], r.get("p50_ms", 0.0)) for r in recs], size)})
        out.append({"name": f"max{tag}", "color": PALETTE[(2 * i + 1) % len(PALETTE)], "dash": True,
                    "points": _binned([(r["t"], r.get("max_ms", 0.0)) for r in recs], size, "max")})
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
        out.append({"name": f"asyncio tasks (pid {key[0]})", "color": PALETTE[i % len(PALETTE)],
                    "dash": True, "points": _binned([(r["t"], r.get("n", 0)) for r in recs], size, "max")})
    return out


def load_series(data: RecordingData) -> tuple[list[dict], list[dict]]:
    rows = data.load_timeline
    if not rows:
        return [], []
    mid = [r.get("t", 0) + 0.5 for r in rows]
    rate = [{"name": "requests/s", "color": PALETTE[1],
             "points": [[_r(t), r.get("requests", 0)] for t, r in zip(mid, rows)]},
            {"name": "errors/s", "color": PALETTE[6],
             "points": [[_r(t), r.get("errors", 0) + r.get("timeouts", 0)] for t, r in zip(mid, rows)]}]
    lat = [{"name": "p50", "color": PALETTE[2], "points": [[_r(t), r.get("p50_ms", 0)] for t, r in zip(mid, rows)]},
           {"name": "p99", "color": PALETTE[0], "points": [[_r(t), r.get("p99_ms", 0)] for t, r in zip(mid, rows)]}]
    return rate, lat
