"""Comparison of two servers: the metrics, their medians over rounds and the wording of the
Improvement column (B against A). The ``--fail-if`` limits are in :mod:`.compare_limits`.

A *measurement* is ``{section: {metric: value}}`` for one round of one side; the
section is ``"load"`` for a single load, or an endpoint's name for a suite.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

SINGLE = "load"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    up: str  # word when B is higher than A ("" -> "+N%")
    down: str  # word when B is lower


METRICS = [
    Metric("rps", "Requests/sec", "", ""),
    Metric("p50", "Latency p50", "slower", "faster"),
    Metric("p99", "Latency p99", "slower", "faster"),
    Metric("rss", "Memory usage (peak RSS)", "more", "less"),
    Metric("cpu", "CPU usage", "more", "less"),
    Metric("cpu_req", "CPU per request", "more", "less"),
    Metric("errors", "Errors", "more", "fewer"),
]
BY_KEY = {m.key: m for m in METRICS}


def metrics_of(result_json: dict, cpu: float | None = None, rss: int | None = None) -> dict:
    """The compared metrics of one ``bench --json`` object (plus the server's CPU and RSS)."""
    lat, req = result_json.get("latency") or {}, result_json.get("requests") or {}
    errors = (result_json.get("errors") or 0) + (result_json.get("non2xx") or 0)
    rps = req.get("average")
    # the server's CPU time per request served (µs): under a closed loop both sides may sit
    # near one core, and then only this says which one works harder
    per_req = cpu / 100 * 1e6 / rps if cpu is not None and rps else None
    return {"rps": rps, "p50": lat.get("p50"), "p99": lat.get("p99"),
            "rss": None if rss is None else rss / 1e6, "cpu": cpu, "cpu_req": per_req,
            "errors": errors}


def median(values: list) -> float | None:
    vs = [v for v in values if v is not None]
    return statistics.median(vs) if vs else None


def medians(rounds: list[dict]) -> dict:
    """``[{section: {metric: v}}]`` over rounds -> ``{section: {metric: median}}``."""
    sections = list(dict.fromkeys(s for r in rounds for s in r))
    return {s: {m.key: median([r.get(s, {}).get(m.key) for r in rounds]) for m in METRICS}
            for s in sections}


def change(a: float | None, b: float | None) -> float | None:
    """B's relative change against A, in % (``None`` if not comparable)."""
    if a is None or b is None or a == 0:
        return None
    return (b / a - 1) * 100


def improvement(m: Metric, a: float | None, b: float | None) -> str:
    if m.key == "errors":
        if a is None or b is None:
            return "–"
        return "same" if a == b else f"{abs(b - a):g} {m.up if b > a else m.down}"
    c = change(a, b)
    if c is None:
        return "–"
    if abs(c) < 0.5:
        return "same"
    if not m.up:
        return f"{c:+.0f}%"
    if c > 0:
        return f"{c:.0f}% {m.up}"
    return f"{-c:.0f}% {m.down}"
