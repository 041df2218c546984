"""Small, dependency-free statistics used by the analyzers (doctor's and heap's)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile (q in 0..1); NaN for an empty input."""
    if not values:
        return math.nan
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass(frozen=True)
class Fit:
    slope: float      # y units per x unit
    intercept: float
    r2: float         # 0..1; 0 when y is flat (nothing to explain)


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> Fit:
    """Least-squares ``y = intercept + slope * x``."""
    n = len(xs)
    if n < 2:
        return Fit(0.0, ys[0] if ys else 0.0, 0.0)
    mx = sum(xs) / n
    my = sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    if sxx <= 0:
        return Fit(0.0, my, 0.0)
    slope = sxy / sxx
    r2 = (sxy * sxy) / (sxx * syy) if syy > 0 else 0.0
    return Fit(slope, my - slope * mx, max(0.0, min(1.0, r2)))
