"""The shape statistic that separates leaks from caches (on the analyzers' line fit,
:func:`pinkclinic.analysis.stats.linear_fit`)."""

from __future__ import annotations

from pinkclinic.analysis.stats import linear_fit


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
