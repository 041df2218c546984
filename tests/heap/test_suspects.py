"""Leak suspects: each rule of :func:`pinkclinic.heap.suspects.rank` from both sides."""

import math

import pytest

from pinkclinic.heap import suspects as sus
from pinkclinic.heap.diagnosis import MIN_CULPRIT_SHARE, memory_leak_issue
from tests.heap.synth import GRID, site, sites, steady_load

KIB = 1024


def linear(total):
    return lambda t: 1e6 + total * t / 10


def ranked(*rows, timeline=None):
    return sus.rank(sites(*rows), GRID, steady_load() if timeline is None else timeline or None)


@pytest.mark.parametrize("side, suspect", [(0.95, False), (1.05, True)])
def test_minimum_growth(side, suspect):
    total = sus.MIN_GROWTH_BYTES * side
    found, considered, steady = ranked(site("remember", linear(total)))
    assert bool(found) == suspect
    row = (found or considered)[0]
    assert row["growth_bytes"] == pytest.approx(total, rel=1e-3)
    assert row["bytes_per_request"] == pytest.approx(total / 1000, rel=1e-3)  # 100 req/s, 10 s
    if not suspect:  # steady, but too little: asks for a longer run
        assert considered[0]["reason"].startswith(f"grew {round(total):,} B, below")
        assert [s["function"] for s in steady] == ["remember"]


@pytest.mark.parametrize("side", [0.9, 1.1])
def test_growth_below_the_steady_floor_is_noise(side):
    """Steady growth under MIN_GROWTH_BYTES is steady-but-small from MIN_STEADY_BYTES on,
    noise below it."""
    found, considered, steady = ranked(site("resize", linear(sus.MIN_STEADY_BYTES * side)))
    assert found == [] and considered[0]["function"] == "resize"
    assert [s["function"] for s in steady] == (["resize"] if side > 1 else [])


@pytest.mark.parametrize("side, suspect", [(0.95, False), (1.05, True)])
def test_minimum_bytes_per_request(side, suspect):
    """300 KiB over the window, at MIN_BYTES_PER_REQUEST * side bytes a request."""
    total = 300 * KIB
    rps = total / (sus.MIN_BYTES_PER_REQUEST * side) / 10
    found, considered, _ = ranked(site("counter", linear(total)), timeline=steady_load(rps))
    assert bool(found) == suspect
    row = (found or considered)[0]
    assert row["bytes_per_request"] == pytest.approx(sus.MIN_BYTES_PER_REQUEST * side, rel=0.01)


def noisy(total, r2):
    """Steady growth plus a square wave, sized for a fit of about ``r2`` (see test_memory)."""
    slope = total / 10
    amp = math.sqrt(slope ** 2 * 100 / 12 * (1 / r2 - 1))
    return lambda t: 1e6 + slope * t + (amp if round(t * 4) % 2 else -amp)


@pytest.mark.parametrize("side, suspect", [(0.97, False), (1.03, True)])
def test_growth_must_be_linear(side, suspect):
    r2 = sus.MIN_R2 * side
    found, considered, _ = ranked(site("jittery", noisy(2 << 20, r2)))
    row = (found or considered)[0]
    assert row["confidence"] == pytest.approx(r2, abs=0.015)
    assert (row["confidence"] >= sus.MIN_R2) == suspect and bool(found) == suspect


def levelling(total, ratio):
    """Growth whose last third runs at ``ratio`` of the first two thirds' rate."""
    fast = total / (10 * 2 / 3 + ratio * 10 / 3)
    return lambda t: 1e6 + fast * min(t, 20 / 3) + fast * ratio * max(0.0, t - 20 / 3)


def early_rate_share(late):
    """The tail rate (of the first two thirds' rate) whose slope over the last third is
    ``late`` of the fitted overall slope: on [0, 1] that slope is (20 + 7 r) / 27."""
    return 20 * late / (27 - 7 * late)


@pytest.mark.parametrize("side, suspect", [(0.9, False), (1.1, True)])
def test_growth_must_go_on_to_the_end(side, suspect):
    """A tail growing at just under (over) MIN_LATE_RATIO of the fitted overall slope: a
    cache that fills early is cleared."""
    late = sus.MIN_LATE_RATIO * side
    found, considered, _ = ranked(site("fill", levelling(2 << 20, early_rate_share(late))))
    row = (found or considered)[0]
    assert row["late_ratio"] == pytest.approx(late, abs=0.02)
    assert (row["late_ratio"] >= sus.MIN_LATE_RATIO) == suspect and bool(found) == suspect
    assert row["confidence"] >= sus.MIN_R2  # only the shape decides


def test_suspects_are_ranked_by_growth_and_share_it():
    found, _, _ = ranked(site("small", linear(1 << 20), line=1), site("big", linear(3 << 20), line=2))
    assert [r["function"] for r in found] == ["big", "small"]
    assert [r["share"] for r in found] == [0.75, 0.25]
    assert found[0]["series"]["t"][0] == GRID[0] and len(found[0]["series"]["bytes"]) == len(GRID)
    assert "reason" not in found[0]


def test_without_a_load_growth_is_per_second():
    found, _, _ = ranked(site("remember", linear(1 << 20)), timeline=False)
    assert found[0]["bytes_per_request"] is None
    assert found[0]["bytes_per_second"] == pytest.approx((1 << 20) / 10, rel=1e-3)


def test_flat_or_shrinking_sites_are_not_considered():
    found, considered, steady = ranked(site("flat", lambda t: 5e6), site("free", linear(-(2 << 20))))
    assert (found, considered, steady) == ([], [], [])


def test_at_most_max_considered_are_reported():
    rows = [site(f"f{i}", levelling(1 << 20, 0.0), line=i) for i in range(sus.MAX_CONSIDERED + 3)]
    found, considered, _ = ranked(*rows)
    assert found == [] and len(considered) == sus.MAX_CONSIDERED
    assert all("series" not in r and "stack" not in r for r in considered)


def staircase(total, steps):
    """Small objects as memray sees them: a new 1 MiB-like arena every so often."""
    return lambda t: 1e6 + total * min(steps, math.floor(t / 10 * steps + 0.5)) / steps


@pytest.mark.parametrize("with_holder", [False, True])
def test_small_objects_need_a_holder_that_grows_in_step(with_holder):
    """A pymalloc staircase fits a line with R^2 under MIN_R2 but over MIN_R2_SMALL_OBJECTS:
    a suspect only when an app site (the list holding the objects) grows steadily with it."""
    arenas = site("", staircase(4 << 20, 2), area="pymalloc")
    rows = [arenas, site("remember", linear(40 * KIB))] if with_holder else [arenas]
    found, considered, _ = ranked(*rows)
    r2 = (found or considered)[0]["confidence"]
    assert sus.MIN_R2_SMALL_OBJECTS <= r2 < sus.MIN_R2
    if with_holder:
        (row,) = found  # the holder is named under it, not listed as cleared
        assert row["area"] == "pymalloc" and [h["function"] for h in row["holders"]] == ["remember"]
        assert considered == []
    else:
        assert found == [] and considered[0]["reason"].startswith("not linear")


@pytest.mark.parametrize("side", [0.95, 1.05])
def test_small_objects_fit_from_min_r2_small_objects(side):
    """Arenas growing with a fit of just under (over) MIN_R2_SMALL_OBJECTS, an app site
    holding them: a suspect only from that R^2 on."""
    r2 = sus.MIN_R2_SMALL_OBJECTS * side
    arenas = site("", noisy(4 << 20, r2), area="pymalloc")
    found, considered, _ = ranked(arenas, site("remember", linear(40 * KIB)))
    row = next(r for r in found + considered if r["area"] == "pymalloc")
    assert row["confidence"] == pytest.approx(r2, abs=0.015)
    assert bool(found) is (side > 1) and (row in found) is (side > 1)


@pytest.mark.parametrize("side", [0.9, 1.1])
def test_the_diagnosis_names_suspects_from_min_culprit_share(side):
    """A second suspect with just under (over) MIN_CULPRIT_SHARE of the growth is left out
    of (named in) the diagnosis's culprits; the first is always named."""
    share = MIN_CULPRIT_SHARE * side
    small = 400 * KIB
    big = small * (1 - share) / share
    found, _, _ = ranked(site("big", linear(big), line=1), site("small", linear(small), line=2))
    assert found[1]["share"] == pytest.approx(share, abs=1e-3)
    issue = memory_leak_issue(found, heap_start=50 << 20, window_s=10.0, requests=1000)
    names = [c["function"] for c in issue["culprits"]]
    assert names == (["big", "small"] if side > 1 else ["big"])
