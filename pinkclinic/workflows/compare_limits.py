"""``compare --fail-if``: limits on B (``'p99 > +10%'``, ``'rps < -5%'``, ``'p99 > 50ms'``),
parsed once and checked over every section that either side measured. Values and their
units are read by :func:`pinkclinic.units.parse_amount`, as ``diff``'s: a duration or a size
needs its unit (a bare one is refused), a bare ``cpu`` is % of one core."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from pinkclinic.errors import UsageError
from pinkclinic.units import AMOUNT, parse_amount
from pinkclinic.workflows.compare import BY_KEY, SINGLE, change

# the metric names a limit may use
ALIASES = {"rps": "rps", "req/s": "rps", "requests": "rps", "reqs": "rps", "throughput": "rps",
           "p50": "p50", "latency": "p50", "median": "p50", "p99": "p99", "rss": "rss",
           "memory": "rss", "mem": "rss", "cpu": "cpu", "cpu/req": "cpu_req",
           "cpu_per_request": "cpu_req", "cpu_req": "cpu_req", "errors": "errors"}

LIMIT_RE = re.compile(rf"^\s*([a-z/0-9_]+)\s*(>=|<=|>|<)\s*({AMOUNT})\s*$", re.I)
# a metric's unit family, and its value in the family's base unit (ms, bytes, req/s, %):
# compare holds memory in MB and CPU per request in µs
FAMILY = {"p50": ("duration", 1.0), "p99": ("duration", 1.0), "rss": ("size", 1e-6),
          "rps": ("rate", 1.0), "cpu": ("share", 1.0), "errors": ("count", 1.0),
          "cpu_req": ("duration", 1000.0)}


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
    name, op, amount = m.group(1).lower(), m.group(2), m.group(3)
    key = ALIASES.get(name)
    if key is None:
        raise UsageError(f"--fail-if {text!r}: unknown metric {name!r} "
                         f"(one of: rps, p50, p99, memory, cpu, cpu/req, errors)")
    family, scale = FAMILY[key]
    a = parse_amount(amount, family, f"--fail-if {text!r}")
    return Limit(text.strip(), key, op, a.value if a.relative else a.value * scale, a.relative)


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
