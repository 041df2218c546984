"""Small, dependency-free statistics used by the analyzers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile (q in 0..1); NaN for an empty input."""
    if not values:
        return math.nan
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float, float]:
    """Least-squares ``y = a + b*x``; returns (slope b, intercept a, r²)."""
    n = len(xs)
    if n < 2:
        return 0.0, (ys[0] if ys else 0.0), 0.0
    mx = sum(xs) / n
    my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    if sxx == 0:
        return 0.0, my, 0.0
    b = sxy / sxx
    r2 = 0.0 if syy == 0 else (sxy * sxy) / (sxx * syy)
    return b, my - b * mx, r2


def rate_series(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """Turn a cumulative counter [(t, value)] into per-second rates at interval midpoints."""
    out = []
    for (t0, v0), (t1, v1) in pairwise(points):
        dt = t1 - t0
        if dt > 0:
            out.append(((t0 + t1) / 2, (v1 - v0) / dt))
    return out
