"""The significance rule on counts alone (no recordings, no processes): how often two
samples of the same server are called different, and whether a real change is seen."""

from __future__ import annotations

import math
import random

import pytest

from pinkclinic.diff.stats import Side, compare, z_for


def poisson(rng: random.Random, lam: float) -> int:
    if lam > 50:  # normal approximation, rounded, for speed
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


# samples per request of six functions; one sample = 10 ms
RATES = {"render_report": 0.60, "price_cart": 0.15, "check_stock": 0.10, "audit_log": 0.08,
         "encode_reply": 0.06, "json": 0.01}


def run_diff(rng, requests_b, requests_n, rates_b, rates_n, per_request=True):
    counts_b = {f: poisson(rng, r * requests_b) for f, r in rates_b.items()}
    counts_n = {f: poisson(rng, r * requests_n) for f, r in rates_n.items()}
    tb, tn = sum(counts_b.values()), sum(counts_n.values())
    z = z_for(len(RATES))
    scale = max(tb * 10 / requests_b, tn * 10 / requests_n) if per_request else 1.0
    return {f: compare(Side(counts_b[f], tb, 10.0, requests_b if per_request else None),
                       Side(counts_n[f], tn, 10.0, requests_n if per_request else None),
                       per_request=per_request, z=z, scale=scale) for f in RATES}


@pytest.mark.parametrize("per_request", [True, False])
def test_two_runs_of_the_same_server_are_rarely_called_different(per_request):
    rng = random.Random(11)
    trials = 400
    false = sum(any(c.significant for c in run_diff(rng, 400, 700, RATES, RATES,
                                                   per_request).values())
                for _ in range(trials))
    # the rule is built for a 5% family-wise error; plain 1.96 per function gives 22-23% here
    assert false / trials <= 0.05


def test_the_interval_covers_the_true_difference_about_95_percent_of_the_time():
    rng = random.Random(5)
    new = {**RATES, "render_report": 0.40}
    covered = 0
    for _ in range(500):
        c = run_diff(rng, 500, 500, RATES, new)["render_report"]
        covered += c.low <= (0.40 - 0.60) * 10 <= c.high
    assert 0.92 <= covered / 500 <= 0.98


def test_a_hot_function_made_three_times_cheaper_is_found_and_nothing_else():
    rng = random.Random(3)
    cheaper = {**RATES, "render_report": 0.20}
    found, others, changes = 0, 0, []
    for _ in range(200):
        out = run_diff(rng, 300, 300, RATES, cheaper)
        found += out["render_report"].significant
        changes.append(out["render_report"].relative)
        others += any(c.significant for f, c in out.items() if f != "render_report")
    assert found == 200
    assert others / 200 <= 0.05
    changes.sort()
    assert -0.72 <= changes[100] <= -0.60  # the true change is -66.7%


def test_small_changes_of_much_data_are_not_news():
    # 1M samples: a 3% change is statistically certain, but under the 10% floor
    c = compare(Side(600_000, 1e6, 10, 100_000), Side(618_000, 1e6, 10, 100_000),
                per_request=True, z=z_for(100), scale=100.0)
    assert c.low > 0 and not c.significant
    # and a function at 0.5% of the CPU that doubles is under the 1%-of-total floor
    c = compare(Side(5_000, 1e6, 10, 100_000), Side(10_000, 1e6, 10, 100_000),
                per_request=True, z=z_for(100), scale=100.0)
    assert c.low > 0 and not c.significant


def test_a_function_that_appears_only_in_new_has_an_interval_and_can_be_significant():
    c = compare(Side(0, 1000, 10, 100), Side(200, 1000, 10, 100), per_request=True,
                z=z_for(10), scale=100.0)
    assert c.relative is None and c.significant and c.low > 0
    c = compare(Side(0, 1000, 10, 100), Side(0, 1000, 10, 100), per_request=True,
                z=z_for(10), scale=100.0)
    assert c.low < 0 < c.high and not c.significant


def test_overdispersed_counts_are_caught_by_the_dispersion_factor():
    """Counts with 3x the Poisson variance (bursty losses on a busy machine): with phi
    estimated from the functions' own times the family-wise error stays near 5%."""
    from pinkclinic.diff.stats import dispersion

    rates = {f"f{i}": r for i, r in enumerate((0.6, 0.3, 0.2, 0.15, 0.1, 0.08, 0.06, 0.05))}

    def draw(rng, lam):  # variance 3 * lam: a Poisson count of bursts of 3 samples
        return 3 * poisson(rng, lam / 3)

    rng = random.Random(8)
    phis, false_plain, false_phi = [], 0, 0
    for _ in range(300):
        sides = {f: (Side(draw(rng, r * 500), 1, 10.0, 500), Side(draw(rng, r * 500), 1, 10.0,
                                                                   500)) for f, r in rates.items()}
        phi = dispersion(list(sides.values()), True)
        phis.append(phi)
        z = z_for(len(rates))
        kw = {"per_request": True, "z": z, "scale": 10.0}
        false_plain += any(compare(b, n, **kw).significant for b, n in sides.values())
        false_phi += any(compare(b, n, phi=phi, **kw).significant for b, n in sides.values())
    phis.sort()
    assert 2.5 <= phis[150] <= 4.5
    assert false_plain / 300 > 0.10  # what the Poisson rule alone would call changed
    assert false_phi / 300 <= 0.05


def test_poisson_counts_give_a_dispersion_near_one():
    from pinkclinic.diff.stats import dispersion

    rng = random.Random(2)
    phis = sorted(dispersion([(Side(poisson(rng, lam), 1, 10.0, 500),
                               Side(poisson(rng, lam), 1, 10.0, 500))
                              for lam in (300, 150, 100, 75, 50, 40, 30, 25)], True)
                  for _ in range(200))
    # about 1 times the small-sample factor (1 + 2/8 = 1.25 with eight functions)
    assert phis[100] <= 1.45
