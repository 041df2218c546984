"""Least-squares line fits and the shape statistics that separate leaks from caches."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fit:
    slope: float      # y units per x unit
    intercept: float
    r2: float         # 0..1; 0 when y is flat (nothing to explain)


def linear_fit(xs: list[float], ys: list[float]) -> Fit:
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


def late_ratio(xs: list[float], ys: list[float], overall_slope: float,
               tail: float = 1 / 3) -> float:
    """Slope over the last ``tail`` of x, relative to the slope over all of it.

    About 1 for steady growth; about 0 for growth that has levelled off (a bounded
    cache that filled, a one-off allocation). Ranges over x, so an uneven load
    rate does not matter when x is cumulative requests.
    """
    if overall_slope <= 0 or len(xs) < 4:
        return 0.0
    cut = xs[0] + (xs[-1] - xs[0]) * (1 - tail)
    i = next((j for j, x in enumerate(xs) if x >= cut), len(xs) - 1)
    i = min(i, len(xs) - 3)
    return linear_fit(xs[i:], ys[i:]).slope / overall_slope
