"""Memory-leak analysis: does memory grow with requests served, and keep growing?

Sums the RSS of every process of the tree at each sampler tick, fits a line
over the load window, and checks that the growth is steady (a good fit) and
does not level off (the last third still grows). Bytes per request divides the
growth by the requests the load generator completed in the same window. Over fewer
than ``LEAK_FULL_REQUESTS`` requests the finding's severity is scaled down, and its
summary says why: a server warming up grows steadily too.
"""

from __future__ import annotations

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import ISSUE, NONE, Finding, clamp01, insufficient
from pinkclinic.analysis.stats import linear_fit
from pinkclinic.units import human_bytes

MIN_WINDOW_S = 2.0
MIN_POINTS = 10
BIN_S = 0.1             # RSS is summed over the tree in 100 ms bins
LEAK_R2 = 0.8           # how straight the growth must be
LEAK_MIN_BYTES = 4 << 20          # at least 4 MiB over the window...
LEAK_MIN_FRACTION = 0.05          # ... and at least 5% of the starting RSS
LEAK_TAIL_RATIO = 0.4   # the last third must still grow at >= 40% of the overall rate
LEAK_FULL_FRACTION = 1.0          # growth (relative to start) at which severity reaches 1
LEAK_FULL_REQUESTS = 500  # fewer requests in the window scale the severity down: warm-up
# (caches filling, a thread pool's threads each getting an allocator arena) grows RSS
# steadily over a server's first requests just as a leak does


def tree_rss(data: RecordingData, t0: float, t1: float) -> list[tuple[float, float]]:
    """[(t, bytes)] of the summed RSS of all processes, binned every BIN_S."""
    last: dict[int, float] = {}
    events = sorted((s["t"], pid, s.get("rss", 0)) for pid, samples in data.processes.items()
                    for s in samples if t0 - 1.0 <= s["t"] <= t1)
    exits = {e["pid"]: e["t"] for e in data.process_events if e.get("event") == "exit"}
    out: list[tuple[float, float]] = []
    next_bin = t0
    for t, pid, rss in events:
        if t >= next_bin and last and t >= t0:
            alive = sum(v for p, v in last.items() if exits.get(p, 1e300) > t)
            out.append((t, float(alive)))
            next_bin = t + BIN_S
        last[pid] = rss
    return out


def _requests(data: RecordingData, t0: float, t1: float) -> int:
    return sum(int(r.get("requests", 0)) for r in data.load_timeline if t0 <= r.get("t", 0) + 0.5 <= t1)


def analyse(data: RecordingData) -> Finding:
    w = data.window
    if w is None or w.duration < MIN_WINDOW_S:
        return insufficient("memory", f"the load window is shorter than {MIN_WINDOW_S:.0f} s")
    series = tree_rss(data, w.start, w.end)
    if len(series) < MIN_POINTS:
        return insufficient("memory", f"only {len(series)} memory samples in the load window",
                            points=len(series))
    xs = [t - series[0][0] for t, _ in series]
    ys = [v for _, v in series]
    fit = linear_fit(xs, ys)
    slope, r2 = fit.slope, fit.r2
    span = xs[-1] - xs[0]
    growth = slope * span
    start = ys[0]
    tail = [(x, y) for x, y in zip(xs, ys) if x >= xs[-1] - span / 3]
    tail_slope = linear_fit([x for x, _ in tail], [y for _, y in tail]).slope if len(tail) >= 3 else 0.0
    requests = _requests(data, w.start, w.end)
    evidence = {
        "rss_start": int(start), "rss_end": int(ys[-1]), "growth_bytes": int(growth),
        "bytes_per_second": round(slope, 1), "r2": round(r2, 3),
        "tail_ratio": round(tail_slope / slope, 3) if slope > 0 else None,
        "requests": requests,
        "bytes_per_request": round(growth / requests, 1) if requests else None,
        "window_s": round(span, 3),
    }
    leak = (slope > 0 and r2 >= LEAK_R2 and growth >= LEAK_MIN_BYTES
            and growth >= LEAK_MIN_FRACTION * start and tail_slope >= LEAK_TAIL_RATIO * slope)
    if not leak:
        return Finding(signal="memory", status=NONE, evidence=evidence,
                       summary=f"memory changed by {'+' if growth >= 0 else ''}{human_bytes(growth)} over the load "
                               "and did not grow steadily")
    per_req = evidence["bytes_per_request"]
    per = f", about {human_bytes(per_req)} per request" if per_req else ""
    severity = clamp01(0.5 + 0.5 * (growth / start) / LEAK_FULL_FRACTION) * r2
    few = ""
    if requests and requests < LEAK_FULL_REQUESTS:
        severity *= requests / LEAK_FULL_REQUESTS
        few = (f", but over only {requests:,} requests: a server warming up (caches, a thread "
               "pool's allocator arenas) grows like this too, so run the load longer to confirm")
    return Finding(signal="memory", status=ISSUE, category="memory-leak",
                   severity=round(severity, 3), evidence=evidence,
                   summary=f"memory grew steadily by {human_bytes(growth)} "
                           f"({human_bytes(slope)}/s{per}) and did not level off{few}")
