"""``compare --fail-if``: limits on B (``'p99 > +10%'``, ``'rps < -5%'``, ``'p99 > 50ms'``),
parsed once and checked over every section that either side measured."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from pinkclinic.errors import UsageError
from pinkclinic.workflows.compare import BY_KEY, SINGLE, change

# the metric names a limit may use
ALIASES = {"rps": "rps", "req/s": "rps", "requests": "rps", "reqs": "rps", "throughput": "rps",
           "p50": "p50", "latency": "p50", "median": "p50", "p99": "p99", "rss": "rss",
           "memory": "rss", "mem": "rss", "cpu": "cpu", "cpu/req": "cpu_req",
           "cpu_per_request": "cpu_req", "cpu_req": "cpu_req", "errors": "errors"}

LIMIT_RE = re.compile(r"^\s*([a-z/0-9_]+)\s*(>=|<=|>|<)\s*([+-]?\d+(?:\.\d+)?)\s*([a-zµ/%]*)\s*$",
                      re.I)
UNITS = {"p50": {"ms": 1, "s": 1000, "us": 0.001, "µs": 0.001, "": 1},
         "p99": {"ms": 1, "s": 1000, "us": 0.001, "µs": 0.001, "": 1},
         "rss": {"mb": 1, "kb": 0.001, "gb": 1000, "b": 1e-6, "": 1},
         "rps": {"req/s": 1, "rps": 1, "": 1}, "cpu": {"": 1}, "errors": {"": 1},
         "cpu_req": {"us": 1, "µs": 1, "ms": 1000, "": 1}}


@dataclass(frozen=True)
class Limit:
    text: str
    metric: str
    op: str
    value: float
    relative: bool

    def crossed(self, a: float | None, b: float | None) -> tuple[bool, float | None]:
        """(crossed, the value compared): a relative limit compares B's change in %; from
        A's 0, no change is 0% and any rise is +inf%. ``None`` if a value is missing."""
        if self.relative and a == 0 and b is not None:
            v = 0.0 if b == 0 else math.copysign(math.inf, b)
        else:
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
                         f"(one of: rps, p50, p99, memory, cpu, cpu/req, errors)")
    if unit == "%" and key == "cpu" and not re.search(r"[+-]\s*\d", m.group(3)):
        return Limit(text.strip(), key, op, num, False)  # "cpu > 80%": 80% of one core
    if unit == "%":
        return Limit(text.strip(), key, op, num, True)
    scale = UNITS[key].get(unit)
    if scale is None:
        units = ", ".join(u for u in UNITS[key] if u) or "none"
        raise UsageError(f"--fail-if {text!r}: unit {unit!r} does not fit {key} "
                         f"(use % for a change against A, or: {units})")
    return Limit(text.strip(), key, op, num * scale, False)


def shown(key: str, v: float) -> str:
    """A measured value with its unit, for the limit lines."""
    if key in ("p50", "p99"):
        return f"{v:.2f} ms"
    if key == "rss":
        return f"{v:.1f} MB"
    if key == "rps":
        return f"{v:,.0f} req/s"
    if key == "cpu":
        return f"{v:.0f}% of a core"
    if key == "cpu_req":
        return f"{v:.0f} µs"
    return f"{v:g}"


NO_SERVER = ("memory and CPU are measured for a command, or for a URL with --a-pid/--b-pid; "
             "a saved single `bench --json` has neither")


def check_limits(limits: list[Limit], a: dict, b: dict) -> tuple[list[str], list[str]]:
    """(one line per crossed limit, one line per limit that could not be checked) over
    every section of either side: a limit whose metric is missing is never a pass."""
    crossed, unchecked = [], []
    for lim in limits:
        m = BY_KEY[lim.metric]
        for section in dict.fromkeys([*a, *b]):
            where = "" if section == SINGLE else f" [{section}]"
            va, vb = a.get(section, {}).get(lim.metric), b.get(section, {}).get(lim.metric)
            lacking = [n for n, v, needed in (("A", va, lim.relative), ("B", vb, True))
                       if needed and v is None]
            if lacking:
                gone = [n for n in lacking if section not in (a if n == "A" else b)]
                if gone:
                    label = "single load" if section == SINGLE else f"endpoint {section!r}"
                    what = f"no result for the {label} from {' or '.join(gone)}"
                else:
                    what = f"no {m.label} for {' or '.join(lacking)}"
                    if lim.metric in ("rss", "cpu", "cpu_req"):
                        what += f" ({NO_SERVER})"
                unchecked.append(f"limit not checked: {lim.text}{where}: {what}")
                continue
            hit, v = lim.crossed(va, vb)
            if hit:
                if lim.relative and math.isinf(v):
                    value = f"{shown(lim.metric, vb)}, against 0 for A"
                else:
                    value = f"{v:+.1f}%" if lim.relative else shown(lim.metric, v)
                crossed.append(f"limit crossed: {lim.text}{where}: B is {value}")
    return crossed, unchecked
