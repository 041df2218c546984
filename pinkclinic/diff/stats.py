"""Is a change larger than the sampling noise? The rule, on counts alone.

A function's CPU per request on one side is ``n * ms_per_sample / requests``: ``n``
stack samples that contain it, over the requests served in the same window. Sample
counts are treated as Poisson (variance ``n``); the request count is exact. So the
difference ``d = new - base`` (ms per request) has the standard error::

    se = sqrt(n_new * s_new**2 / R_new**2 + n_base * s_base**2 / R_base**2)

(``s``: ms per sample, ``R``: requests), and its 95% interval is ``d ± 1.96 se``.

A change is **significant** when all three hold:

* statistically: ``|d| > z * se0``, with ``z`` Bonferroni-corrected for the number of
  functions compared (two-sided, 5% family-wise), so a table of 200 functions does
  not call ten of them changed by chance; ``se0`` is the larger of ``se`` and the error
  under the null hypothesis (both sides at the pooled rate), which holds its level at
  small counts;
* relatively: ``|d|`` is at least :data:`MIN_RELATIVE` of the larger side (CPU per
  request of the same code drifts by a few percent between runs on a shared machine:
  cache, frequency, the scheduler), and
* absolutely: ``|d|`` is at least :data:`MIN_OF_TOTAL` of the larger side's total CPU
  per request (a 30% change of a function that costs 0.2% of a request is noise to
  the user, whatever its statistics).

**Overdispersion.** Real samples are not quite Poisson: on a busy machine py-spy itself
is descheduled and loses samples in bursts, and a server's work comes in bursts too. So
the errors are widened by a dispersion factor ``phi`` estimated from the data itself, the
way genome-wide studies correct for inflation ("genomic control"): most functions' *own*
time does not change between two runs, so their squared z-scores should follow a
chi-square with one degree of freedom. ``phi`` is the mean of the lowest 75% of them over
that mean for a chi-square (0.3687; the top quarter is left out, as it holds the real
changes), times ``1 + 2/k`` for the ``k`` functions it was estimated from (a small-sample
correction), never below 1. Only functions with at least :data:`DISPERSION_MIN_SAMPLES`
samples count, and at least :data:`DISPERSION_MIN_FUNCTIONS` are needed (else ``phi`` is 1).
Simulated with 3x the Poisson variance, this holds the family-wise error at 4%, where the
Poisson rule alone calls a change in one diff out of three (``tests/diff/test_stats.py``).

Without requests on a side (``--no-load``, ``--pid`` without load) the comparison is
of shares of all CPU samples: ``p = n / T`` with the binomial standard error
``sqrt(p (1 - p) / T)``, and the same three tests on the shares.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import NamedTuple

Z95 = 1.959963984540054
FAMILY_ALPHA = 0.05
MIN_RELATIVE = 0.10
MIN_OF_TOTAL = 0.01
DISPERSION_MIN_SAMPLES = 10
DISPERSION_MIN_FUNCTIONS = 5
CHI2_1_TRIMMED_MEAN = 0.3687  # E[X | X below its 75th percentile], X ~ chi-square(1)
TRIM = 0.75


class Side(NamedTuple):  # a tuple, not a frozen dataclass: a 1M-sample diff makes ~100k
    """One side's counts for one function: ``n`` samples of ``total`` (both in samples),
    ``ms_per_sample`` and the ``requests`` served (``None``: shares only)."""
    n: float
    total: float
    ms_per_sample: float
    requests: float | None


class Change(NamedTuple):
    base: float            # ms per request, or share (0..1)
    new: float
    delta: float           # new - base
    low: float             # 95% interval of delta
    high: float
    relative: float | None  # delta / base; None when base is 0
    significant: bool


def z_for(m: int, alpha: float = FAMILY_ALPHA) -> float:
    """Two-sided z of a Bonferroni-corrected level over ``m`` comparisons."""
    return NormalDist().inv_cdf(1 - alpha / (2 * max(1, m)))


def _per_request(side: Side) -> tuple[float, float]:
    """(value, variance) of the side's ms per request."""
    k = side.ms_per_sample / side.requests
    return side.n * k, side.n * k * k


def _share(side: Side) -> tuple[float, float]:
    if side.total <= 0:
        return 0.0, 0.0
    p = side.n / side.total
    return p, max(p * (1 - p), 0.25 / side.total) / side.total


def _pooled_se(base: Side, new: Side, per_request: bool) -> float:
    """The standard error of the difference if both sides had the same value (the null
    hypothesis): both counts drawn at the pooled rate. Better calibrated than the unpooled
    error for the test at small counts, where a side's own count is a poor variance."""
    if per_request:
        mu = ((base.n * base.ms_per_sample + new.n * new.ms_per_sample)
              / (base.requests + new.requests))
        return math.sqrt(mu * (base.ms_per_sample / base.requests
                               + new.ms_per_sample / new.requests))
    if base.total <= 0 or new.total <= 0:
        return 0.0
    p0 = (base.n + new.n) / (base.total + new.total)
    return math.sqrt(p0 * (1 - p0) * (1 / base.total + 1 / new.total))


def dispersion(pairs: list[tuple[Side, Side]], per_request: bool) -> float:
    """``phi`` from the (BASE, NEW) own-time counts of every function (see the module)."""
    z2 = []
    for b, n in pairs:
        if b.n + n.n < DISPERSION_MIN_SAMPLES:
            continue
        value = _per_request if per_request else _share
        d = value(n)[0] - value(b)[0]
        se = _pooled_se(b, n, per_request)
        if se > 0:
            z2.append((d / se) ** 2)
    if len(z2) < DISPERSION_MIN_FUNCTIONS:
        return 1.0
    z2.sort()
    keep = z2[:max(1, round(TRIM * len(z2)))]
    return max(1.0, sum(keep) / len(keep) / CHI2_1_TRIMMED_MEAN * (1 + 2 / len(z2)))


def compare(base: Side, new: Side, *, per_request: bool, z: float, scale: float,
            phi: float = 1.0) -> Change:
    """The change of one function from ``base`` to ``new``. ``scale`` is the larger
    side's total (ms per request, or 1 for shares), for the absolute floor."""
    value = _per_request if per_request else _share
    b, vb = value(base)
    n, vn = value(new)
    d = n - b
    se = math.sqrt((vb + vn) * phi)
    # a side with no samples of the function still has a counting error: one sample
    if se == 0:
        se = math.sqrt(phi * sum(value(Side(1, max(s.total, 1), s.ms_per_sample,
                                                s.requests))[1] for s in (base, new)))
    larger = max(abs(b), abs(n))
    pooled = _pooled_se(base, new, per_request) * math.sqrt(phi)
    significant = (abs(d) > z * max(se, pooled) and abs(d) >= MIN_RELATIVE * larger
                   and abs(d) >= MIN_OF_TOTAL * scale)
    return Change(b, n, d, d - Z95 * se, d + Z95 * se, d / b if b else None, significant)
