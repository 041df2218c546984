"""Per-route results: path templates, the per-route table, and the requests in flight.

Pure functions over ``routes.json`` (written by :mod:`pinkclinic.session.routes_file`
from the load generator's per-request trace; see docs/recording-format.md):

* :func:`path_template` turns a request path into its route: the query string dropped
  (it may carry tokens), and each segment that is an id (digits, a UUID, a hex string, a
  long mixed token) collapsed to ``[<id>]``, so ``/report/17`` and ``/report/18`` are one
  route and no secret in a path segment is written;
* :func:`route_table` gives each route's count, p50, p99 and errors over the load
  window, untrimmed (requests that *started* in it: every request of the load counts);
* :func:`in_flight` counts each route's requests in flight per time step, for
  attributing stack samples to routes (:mod:`pinkclinic.analysis.route_culprits`).
"""

from __future__ import annotations

import math
import re
from typing import Any

from pinkclinic import redact

ID_MARK = "[<id>]"  # the load generator's own mark for a run-unique id (LoadSpec's)
_ID_SEGMENT = re.compile(
    r"^(?:\d+|[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
    r"|(?=[^/]*\d)[0-9a-fA-F]{8,}|(?=[^/]*\d)(?=[^/]*[A-Za-z])[A-Za-z0-9_\-.~=]{16,})$")
IN_FLIGHT_STEP_S = 0.01  # time step of :func:`in_flight`
_EPS = 1e-6  # of a step: epoch seconds near 1.7e9 carry float noise at the µs


def path_template(path: str) -> str:
    """``/report/17?token=x`` -> ``/report/[<id>]``: no query string, ids collapsed."""
    path = path.split("?", 1)[0].split("#", 1)[0] or "/"
    segments = [ID_MARK if (ID_MARK in s or _ID_SEGMENT.match(s)) else s for s in path.split("/")]
    return redact.text("/".join(segments))


def route_key(method: str, path: str) -> tuple[str, str]:
    return (method.upper(), path_template(path))


def _pct(sorted_ms: list[float], p: float) -> float:
    """Nearest-rank percentile (the load generator's convention)."""
    if not sorted_ms:
        return 0.0
    return sorted_ms[max(1, math.ceil(len(sorted_ms) * p / 100)) - 1]


def _requests(doc: dict) -> list[tuple[int, float, float, int]]:
    """(route, start, end, status) of every request, epoch seconds."""
    req = doc.get("requests") or {}
    t0 = float(doc.get("t0") or 0.0)
    return [(int(r), t0 + s / 1000, t0 + (s + d) / 1000, int(st)) for r, s, d, st in
            zip(req.get("route", []), req.get("start_ms", []), req.get("dur_ms", []),
                req.get("status", []), strict=False)]


def _inside(start: float, window: tuple[float, float] | None) -> bool:
    return window is None or window[0] <= start <= window[1]


def is_error(status: int) -> bool:
    """A failed request (0: no answer: a timeout, a reset) or a 4xx/5xx answer."""
    return status == 0 or status >= 400


def route_table(doc: dict, window: tuple[float, float] | None) -> list[dict[str, Any]]:
    """One row per route with a request started in ``window``: ``method``, ``path``,
    ``count``, ``p50_ms``, ``p99_ms``, ``errors``; the routes that held requests in
    flight longest (count times mean latency) first. Latencies are of every request,
    failed ones included (a timeout's is its time to the timeout)."""
    routes = doc.get("routes") or []
    lat: dict[int, list[float]] = {}
    errors: dict[int, int] = {}
    for r, s, e, st in _requests(doc):
        if 0 <= r < len(routes) and _inside(s, window):
            lat.setdefault(r, []).append((e - s) * 1000)
            errors[r] = errors.get(r, 0) + is_error(st)
    rows = []
    for r, xs in lat.items():
        xs.sort()
        rows.append({"method": str(routes[r].get("method", "")), "path": str(routes[r].get("path", "")),
                     "count": len(xs), "p50_ms": round(_pct(xs, 50), 3),
                     "p99_ms": round(_pct(xs, 99), 3), "errors": errors.get(r, 0),
                     "_busy": sum(xs)})
    rows.sort(key=lambda row: (-row["_busy"], row["method"], row["path"]))
    for row in rows:
        del row["_busy"]
    return rows


class InFlight:
    """Each route's requests in flight per :data:`IN_FLIGHT_STEP_S` from ``start``."""

    def __init__(self, start: float, step: float, counts: dict[int, list[int]]):
        self.start, self.step, self.counts = start, step, counts

    def at(self, t: float) -> dict[int, int]:
        """route -> requests in flight at ``t`` (routes with none left out)."""
        i = math.floor((t - self.start) / self.step + _EPS)
        return {r: c[i] for r, c in self.counts.items() if 0 <= i < len(c) and c[i] > 0}


def in_flight(doc: dict, window: tuple[float, float], step: float = IN_FLIGHT_STEP_S) -> InFlight:
    """Requests in flight per route and time step over ``window`` (a request counts in a
    step it overlaps at the step's start or began in)."""
    start, end = window
    n = max(1, math.ceil((end - start) / step))
    diff: dict[int, list[int]] = {}
    for r, s, e, _st in _requests(doc):
        if e < start or s > end:
            continue
        d = diff.setdefault(r, [0] * (n + 1))
        lo = max(0, math.floor((s - start) / step + _EPS))
        hi = min(n, max(lo + 1, math.ceil((e - start) / step - _EPS)))
        d[lo] += 1
        d[hi] -= 1
    counts = {}
    for r, d in diff.items():
        acc, out = 0, []
        for x in d[:n]:
            acc += x
            out.append(acc)
        counts[r] = out
    return InFlight(start, step, counts)
