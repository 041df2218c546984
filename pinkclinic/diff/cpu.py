"""The CPU part of a diff: CPU per request per function, and the differential call tree.

Functions are matched across the two recordings by (function, file): line numbers move
between versions, names and files rarely do. Each function has

* ``*_ms_per_request``: its **total** (inclusive) CPU per request, what it costs with
  everything it calls; ``change`` is the relative change, ``significant`` the rule of
  :mod:`pinkclinic.diff.stats`, ``interval_ms`` the 95% interval of the difference;
* ``*_self_ms_per_request``: its own frames only (where a change *happens*), with
  ``self_significant``.

The table is ordered by the size of the self change (the cause first; the callers of a
changed function change by the same total), then of the total change.
"""

from __future__ import annotations

from pinkclinic.diff.merged import Merged, function_counts, merge
from pinkclinic.diff.sides import CpuSide
from pinkclinic.diff.stats import Change, Side, compare, dispersion, z_for


def _side(counts: float, total: float, side: CpuSide, per_request: bool) -> Side:
    return Side(counts, total, side.ms_per_sample, side.requests if per_request else None)


def _num(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def _change_fields(c: Change, per_request: bool, prefix: str = "") -> dict:
    if per_request:
        vals = {f"base_{prefix}ms_per_request": _num(c.base), f"new_{prefix}ms_per_request":
                _num(c.new), f"{prefix}interval_ms": [_num(c.low), _num(c.high)]}
    else:
        vals = {f"base_{prefix}ms_per_request": None, f"new_{prefix}ms_per_request": None,
                f"{prefix}interval_share": [_num(c.low, 6), _num(c.high, 6)]}
    return {**vals, f"{prefix}change": _num(c.relative), f"{prefix}significant": c.significant}


def busy_total(side: CpuSide) -> float:
    return side.busy


def cpu_diff(base: CpuSide, new: CpuSide, merged: Merged | None = None) -> dict:
    """The JSON-able CPU comparison (``normalised_by``, ``total``, ``functions``)."""
    per_request = base.requests is not None and new.requests is not None
    tb, tn = busy_total(base), busy_total(new)
    m = merged or merge(base, new)
    cb, cn = function_counts(m, 0), function_counts(m, 1)
    keys = sorted(set(cb) | set(cn))
    z = z_for(len(keys))

    def ms(side: CpuSide, n: float) -> float:
        return n * side.ms_per_sample / side.requests

    scale = max(ms(base, tb), ms(new, tn)) if per_request else 1.0
    phi = dispersion([(_side(cb.get(k, [0])[0], tb, base, per_request),
                       _side(cn.get(k, [0])[0], tn, new, per_request)) for k in keys],
                     per_request)
    total = compare(_side(tb, tb, base, per_request), _side(tn, tn, new, per_request),
                    per_request=per_request, z=z_for(1), scale=0.0, phi=phi)
    rows = []
    for k in keys:
        b = cb.get(k, [0, 0, 0, ""])
        n = cn.get(k, [0, 0, 0, ""])
        tot = compare(_side(b[1], tb, base, per_request), _side(n[1], tn, new, per_request),
                      per_request=per_request, z=z, scale=scale, phi=phi)
        own = compare(_side(b[0], tb, base, per_request), _side(n[0], tn, new, per_request),
                      per_request=per_request, z=z, scale=scale, phi=phi)
        row = {"function": k[0], "file": k[1], "line": int(n[2] or b[2] or 0),
               "area": n[3] or b[3], "status": "new" if not b[1] else
               ("removed" if not n[1] else "both"),
               "base_samples": b[1], "new_samples": n[1],
               "base_share": _num(b[1] / tb if tb else 0.0, 6),
               "new_share": _num(n[1] / tn if tn else 0.0, 6),
               **_change_fields(tot, per_request), **_change_fields(own, per_request, "self_")}
        row["_order"] = (-abs(own.delta), -abs(tot.delta), k)
        rows.append(row)
    rows.sort(key=lambda r: r.pop("_order"))
    return {"normalised_by": "request" if per_request else "share", "dispersion": round(phi, 3),
            "total": {"base_samples": tb, "new_samples": tn, **_change_fields(total, per_request)},
            "functions": rows}
