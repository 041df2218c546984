"""``--fail-if`` over a diff: the grammar of ``compare``'s limits, on the diff's metrics.

    cpu/req(render_report) > +10%     a function's CPU per request (total), NEW against BASE
    cpu/req(render_report) > 5ms      ... NEW's value
    cpu/req > +5%                     all CPU per request
    new-issue                         doctor found an issue in NEW that BASE did not have
    new-issue(loop-cpu)               ... of that category
    leak(remember_visit) > 1KiB       heap: NEW's leak site's bytes per request
    p99 > +10%   rps < -5%   ...      doctor's figures (rps, p50, p99, lag, gc, stall, memory)
    p99 > 1s   memory > 10MB   gc > 5%   ... NEW's value

Values and their units are read by :func:`pinkclinic.units.parse_amount`, as ``compare``'s:
durations (us, ms, s) and sizes (B, kB, MB, GB, KiB, MiB, GiB), each with its unit, req/s,
and shares (gc, stall: ``5%`` or a bare 5 is 5% of the time, ``+5%`` a change against BASE).

A CPU limit is crossed only by a **significant** change (:mod:`pinkclinic.diff.stats`):
a change within the sampling noise never fails a build. A limit whose metric is missing
from the diff (no such function, not a doctor or heap diff) is never a pass: it is
reported as not checked (exit 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pinkclinic.diff.present import figure
from pinkclinic.errors import UsageError
from pinkclinic.units import AMOUNT, parse_amount

LIMIT_RE = re.compile(r"^\s*([a-z/_0-9-]+)\s*(?:\(\s*([^()]+?)\s*\))?\s*"
                      rf"(?:(>=|<=|>|<)\s*({AMOUNT}))?\s*$", re.I)
DOCTOR = {"rps": "rps", "req/s": "rps", "p50": "p50_ms", "p99": "p99_ms",
          "lag": "loop_lag_max_ms", "loop-lag": "loop_lag_max_ms", "gc": "gc_share",
          "stall": "loop_stall_share", "memory": "memory_growth_bytes",
          "growth": "memory_growth_bytes"}
# a doctor figure's unit family, and its value in the family's base unit (shares are
# held as fractions, limits in %)
FAMILY = {"rps": ("rate", 1.0), "p50_ms": ("duration", 1.0), "p99_ms": ("duration", 1.0),
          "loop_lag_max_ms": ("duration", 1.0), "gc_share": ("share", 0.01),
          "loop_stall_share": ("share", 0.01), "memory_growth_bytes": ("size", 1.0)}
METRICS = "cpu/req, cpu/req(FUNCTION), new-issue, leak(FUNCTION), " + ", ".join(
    dict.fromkeys(DOCTOR))


@dataclass(frozen=True)
class Limit:
    text: str
    metric: str            # "cpu_req", "new_issue", "leak", or a doctor figure key
    arg: str | None
    op: str | None
    value: float | None
    relative: bool


def parse_limit(text: str) -> Limit:
    m = LIMIT_RE.match(text)
    bad = UsageError(f"--fail-if {text!r}: expected METRIC OP VALUE, e.g. "
                     "'cpu/req(render_report) > +10%', 'new-issue' or 'leak(remember_visit) > 0' "
                     f"(metrics: {METRICS})")
    if not m:
        raise bad
    name, arg, op, amount = m.group(1).lower(), m.group(2), m.group(3), m.group(4)
    if name in ("new-issue", "new_issue"):
        if op:
            raise bad
        return Limit(text.strip(), "new_issue", arg, None, None, False)
    if not op:
        raise bad
    what = f"--fail-if {text!r}"
    if name in ("cpu/req", "cpu_req", "cpu"):
        a = parse_amount(amount, "duration", what)
        return Limit(text.strip(), "cpu_req", arg, op, a.value, a.relative)
    if name == "leak":
        a = parse_amount(amount, "size", what, changes=False)
        if not arg:
            raise UsageError(f"{what}: leak(FUNCTION) takes bytes per request, "
                             "e.g. 'leak(remember_visit) > 0' or '> 1KiB'")
        return Limit(text.strip(), "leak", arg, op, a.value, False)
    key = DOCTOR.get(name)
    if key is None or arg:
        raise bad
    family, scale = FAMILY[key]
    a = parse_amount(amount, family, what)
    return Limit(text.strip(), key, None, op, a.value if a.relative else a.value * scale,
                 a.relative)


def _cross(op: str, v: float, limit: float) -> bool:
    return {">": v > limit, "<": v < limit, ">=": v >= limit, "<=": v <= limit}[op]


def _named(rows: list[dict], name: str) -> list[dict]:
    """Rows of a function: its exact name, or its last dotted part (``Class.method``)."""
    exact = [r for r in rows if r.get("function") == name]
    return exact or [r for r in rows if str(r.get("function", "")).rsplit(".", 1)[-1] == name]


def _cpu(lim: Limit, data: dict) -> tuple[list[str], list[str]]:
    if "functions" not in data:
        return [], [f"limit not checked: {lim.text}: not a CPU diff (flame or doctor)"]
    per_request = data.get("normalised_by") == "request"
    if not per_request and not lim.relative:
        return [], [f"limit not checked: {lim.text}: a side has no load results, so there "
                    "is no CPU per request (only shares)"]
    rows = [data["total"]] if lim.arg is None else _named(data["functions"], lim.arg)
    if not rows:
        return [], [f"limit not checked: {lim.text}: no function {lim.arg!r} in either "
                    "recording"]
    crossed, quiet = [], []
    for r in rows:
        where = "all CPU" if lim.arg is None else f"{r['function']} ({r['file']})"
        if lim.relative:
            ch = r.get("change")
            if ch is None:  # new in NEW: any rise is +inf%
                ch = float("inf") if (r.get("new_samples") or 0) > 0 else 0.0
            v, shown = 100 * ch, f"{100 * ch:+.1f}%" if ch != float("inf") else "new in NEW"
        else:
            v = r.get("new_ms_per_request") or 0.0
            shown = f"{v:.3f} ms per request"
        if _cross(lim.op, v, lim.value):
            if r.get("significant"):
                crossed.append(f"limit crossed: {lim.text}: {where} is {shown}")
            else:
                quiet.append(f"within the noise: {lim.text}: {where} is {shown}, "
                             "not significant")
    return crossed, quiet


def check_limits(limits: list[Limit], data: dict) -> tuple[list[str], list[str], list[str]]:
    """(crossed, not checked, notes) over a diff's JSON."""
    crossed, unchecked, notes = [], [], []
    for lim in limits:
        if lim.metric == "cpu_req":
            c, q = _cpu(lim, data)
            crossed += c
            (unchecked if q and q[0].startswith("limit not") else notes).extend(q)
        elif lim.metric == "new_issue":
            doc = data.get("doctor")
            if doc is None:
                unchecked.append(f"limit not checked: {lim.text}: not a doctor diff")
                continue
            new = [i for i in doc["issues"]["new"] if lim.arg in (None, i["category"])]
            crossed += [f"limit crossed: {lim.text}: NEW has {i['category']}: {i['summary']}"
                        for i in new]
        elif lim.metric == "leak":
            heap = data.get("heap")
            if heap is None:
                unchecked.append(f"limit not checked: {lim.text}: not a heap diff")
                continue
            rows = _named(heap["leaks"], lim.arg)
            if not rows:  # no leak there: a pass, but a typo must not pass unseen
                notes.append(f"no leak site named {lim.arg!r} in either recording: "
                             f"{lim.text} holds")
            for r in rows:
                v = r.get("new_bytes_per_request")
                if r["status"] != "fixed" and v is not None and _cross(lim.op, v, lim.value):
                    crossed.append(f"limit crossed: {lim.text}: {r['function']} keeps "
                                   f"{v:,.0f} B per request in NEW ({r['status']})")
        else:
            doc = data.get("doctor")
            row = next((m for m in (doc or {}).get("metrics", []) if m["metric"] == lim.metric),
                       None)
            if row is None or row["new"] is None or (lim.relative and row["change"] is None):
                unchecked.append(f"limit not checked: {lim.text}: not measured on both sides")
                continue
            v = 100 * row["change"] if lim.relative else row["new"]
            if _cross(lim.op, v, lim.value):
                crossed.append(f"limit crossed: {lim.text}: NEW is "
                               f"{f'{v:+.1f}%' if lim.relative else figure(v, row['unit'])}")
    return crossed, unchecked, notes
