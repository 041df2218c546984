"""Comparison of two servers: the metrics, their medians over rounds, the wording of the
Improvement column (B against A) and the ``--fail-if`` limits.

A *measurement* is ``{section: {metric: value}}`` for one round of one side; the
section is ``"load"`` for a single load, or an endpoint's name for a suite.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from pinkclinic.errors import UsageError

SINGLE = "load"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    better: str  # "higher" or "lower"
    up: str  # word when B is higher than A ("" -> "+N%")
    down: str  # word when B is lower
    unit: str


METRICS = [
    Metric("rps", "Requests/sec", "higher", "", "", "req/s"),
    Metric("p50", "Latency p50", "lower", "slower", "faster", "ms"),
    Metric("p99", "Latency p99", "lower", "slower", "faster", "ms"),
    Metric("rss", "Memory usage (peak RSS)", "lower", "more", "less", "MB"),
    Metric("cpu", "CPU usage", "lower", "more", "less", "% of a core"),
    Metric("errors", "Errors", "lower", "more", "fewer", ""),
]
BY_KEY = {m.key: m for m in METRICS}
ALIASES = {"rps": "rps", "req/s": "rps", "requests": "rps", "reqs": "rps", "throughput": "rps",
           "p50": "p50", "latency": "p50", "median": "p50", "p99": "p99", "rss": "rss",
           "memory": "rss", "mem": "rss", "cpu": "cpu", "errors": "errors"}


def metrics_of(result_json: dict, cpu: float | None = None, rss: int | None = None) -> dict:
    """The compared metrics of one ``bench --json`` object (plus the server's CPU and RSS)."""
    lat, req = result_json.get("latency") or {}, result_json.get("requests") or {}
    errors = (result_json.get("errors") or 0) + (result_json.get("non2xx") or 0)
    return {"rps": req.get("average"), "p50": lat.get("p50"), "p99": lat.get("p99"),
            "rss": None if rss is None else rss / 1e6, "cpu": cpu, "errors": errors}


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
        return "same" if a == b else (f"{b - a:+g}")
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


# -- --fail-if -------------------------------------------------------------------------
LIMIT_RE = re.compile(r"^\s*([a-z/0-9_]+)\s*(>=|<=|>|<)\s*([+-]?\d+(?:\.\d+)?)\s*([a-z/%]*)\s*$",
                      re.I)
UNITS = {"p50": {"ms": 1, "s": 1000, "us": 0.001, "µs": 0.001, "": 1},
         "p99": {"ms": 1, "s": 1000, "us": 0.001, "µs": 0.001, "": 1},
         "rss": {"mb": 1, "kb": 0.001, "gb": 1000, "b": 1e-6, "": 1},
         "rps": {"req/s": 1, "rps": 1, "": 1}, "cpu": {"": 1}, "errors": {"": 1}}


@dataclass(frozen=True)
class Limit:
    text: str
    metric: str
    op: str
    value: float
    relative: bool

    def crossed(self, a: float | None, b: float | None) -> tuple[bool, float | None]:
        """(crossed, the value compared): a relative limit compares B's change in %."""
        v = change(a, b) if self.relative else b
        if v is None:
            return False, None
        return {">": v > self.value, "<": v < self.value, ">=": v >= self.value,
                "<=": v <= self.value}[self.op], v


def parse_limit(text: str) -> Limit:
    m = LIMIT_RE.match(text)
    if not m:
        raise UsageError(f"--fail-if {text!r}: expected METRIC OP VALUE, e.g. 'p99 > +10%' "
                         "or 'rps < -5%' or 'p99 > 50ms'")
    name, op, num, unit = m.group(1).lower(), m.group(2), float(m.group(3)), m.group(4).lower()
    key = ALIASES.get(name)
    if key is None:
        raise UsageError(f"--fail-if {text!r}: unknown metric {name!r} "
                         f"(one of: rps, p50, p99, memory, cpu, errors)")
    if unit == "%":
        return Limit(text.strip(), key, op, num, True)
    scale = UNITS[key].get(unit)
    if scale is None:
        units = ", ".join(u for u in UNITS[key] if u) or "none"
        raise UsageError(f"--fail-if {text!r}: unit {unit!r} does not fit {key} "
                         f"(use % for a change against A, or: {units})")
    return Limit(text.strip(), key, op, num * scale, False)


def check_limits(limits: list[Limit], a: dict, b: dict) -> list[str]:
    """One line per crossed limit, over every section present on both sides."""
    out = []
    for lim in limits:
        for section in b:
            ok_a, ok_b = a.get(section, {}), b[section]
            crossed, v = lim.crossed(ok_a.get(lim.metric), ok_b.get(lim.metric))
            if crossed:
                where = "" if section == SINGLE else f" [{section}]"
                shown = f"{v:+.1f}%" if lim.relative else f"{v:g}"
                out.append(f"limit crossed: {lim.text}{where}: B is {shown}")
    return out
