"""Workers' bins merge exactly: the merged timeline and run summary of several sources
equal those of one source that saw every request, percentiles included."""

from __future__ import annotations

import math
import random

from hdrh.histogram import HdrHistogram

from pinkclinic.load.core.stats import (
    ALL_PERCENTILES,
    HIST_DIGITS,
    HIST_MAX_US,
    Aggregator,
    Recorder,
    counter_percentiles,
)


def nearest_rank(values: list[int], p: float) -> int:
    xs = sorted(values)
    return xs[max(1, math.ceil(len(xs) * p / 100)) - 1]


def requests(seed: int, seconds: int = 4, per_second: int = 500) -> list[list[tuple[int, int]]]:
    """Per second, (latency µs, status) of each request: a long tail and some 503s."""
    rnd = random.Random(seed)
    return [[(int(rnd.lognormvariate(7, 1.2)) + 1, 503 if rnd.random() < 0.05 else 200)
             for _ in range(per_second)] for _ in range(seconds)]


def bins(reqs: list[list[tuple[int, int]]]) -> list[dict]:
    """Cut a Recorder the way an engine does, once a second."""
    rec, out = Recorder(), []
    for i, second in enumerate(reqs):
        for lat, status in second:
            rec.lat.append(lat)
            rec.status[status] += 1
            rec.nbytes += 100
        out.append(rec.cut(i, 1.0))
    return out


def aggregate(sources: list[list[dict]]) -> Aggregator:
    agg = Aggregator(len(sources), t0=1000.0)
    for i in range(max(len(s) for s in sources)):  # interleaved, as workers deliver
        for k, s in enumerate(sources):
            if i < len(s):
                agg.add(k, s[i])
    for k in range(len(sources)):
        agg.done(k)
    return agg


def test_counter_percentiles_are_nearest_rank():
    values = [5, 1, 9, 9, 3, 7, 7, 7, 2, 10]
    counts = {v: values.count(v) for v in set(values)}
    pcts = (1, 10, 25, 50, 75, 90, 99, 100)
    assert counter_percentiles(counts, pcts) == [nearest_rank(values, p) for p in pcts]
    assert counter_percentiles({}, (50,)) == [0]


def test_three_workers_merge_to_exactly_one_process():
    workers = [requests(seed) for seed in (1, 2, 3)]
    merged = aggregate([bins(w) for w in workers])
    everything = [[r for w in workers for r in w[i]] for i in range(4)]
    one = aggregate([bins(everything)])

    assert merged.timeline == one.timeline  # counts, statuses, p50, p99, max per second
    assert merged.latency_summary() == one.latency_summary()  # HDR percentiles, mean, stdev
    assert merged.status == one.status and merged.requests == 6000
    # each second's percentiles are the exact nearest-rank ones of all its requests
    for i, row in enumerate(merged.timeline):
        lats = [lat for lat, _ in everything[i]]
        assert row["p50_ms"] == round(nearest_rank(lats, 50) / 1000, 3)
        assert row["p99_ms"] == round(nearest_rank(lats, 99) / 1000, 3)
        assert row["max_ms"] == round(max(lats) / 1000, 3)
    # and the run's are those of one HDR histogram of every request
    hist = HdrHistogram(1, HIST_MAX_US, HIST_DIGITS)
    for second in everything:
        for lat, _ in second:
            hist.record_value(lat)
    summary = merged.latency_summary()
    assert summary["pcts"] == {p: hist.get_value_at_percentile(p) for p in ALL_PERCENTILES}
    assert summary["n"] == 6000 and summary["max"] == max(lat for s in everything for lat, _ in s)
    # the histogram filled once per bucket at the end holds the same counts as one fed
    # every request (above 2048 µs a bucket holds many values: the folding is exercised)
    assert max(lat for s in everything for lat, _ in s) > 2048 * 8
    assert [merged.hist.get_count_at_index(i) for i in range(hist.counts_len)] == \
        [hist.get_count_at_index(i) for i in range(hist.counts_len)]
    assert merged.hist.get_total_count() == hist.get_total_count()


def test_a_worker_that_stops_early_does_not_hold_back_the_others():
    long, short = requests(4, seconds=4), requests(5, seconds=2)
    ticks: list[dict] = []
    agg = Aggregator(2, t0=1000.0, on_tick=ticks.append)
    for i, b in enumerate(bins(short)):
        agg.add(1, b)
        agg.add(0, bins(long)[i])
    agg.done(1)
    for b in bins(long)[2:]:
        agg.add(0, b)
    agg.done(0)
    assert [t["t"] for t in ticks] == [1000.0, 1001.0, 1002.0, 1003.0]
    assert [t["requests"] for t in ticks] == [1000, 1000, 500, 500]


def test_the_folded_sums_and_the_clamp_are_those_of_every_request():
    """The bins are folded into buckets and summed in bulk: the mean, stdev, min and max are
    still those of every request, and a latency past the histogram's range (a corrected
    one) is clamped for the histogram and the sums only, as one record_value each would."""
    reqs = requests(7, seconds=3)
    reqs[1].append((HIST_MAX_US + 12_345, 200))
    agg = aggregate([bins(reqs)])
    lats = [lat for s in reqs for lat, _ in s]
    held = [min(v, HIST_MAX_US) for v in lats]
    n, mean = len(held), sum(held) / len(held)
    summary = agg.latency_summary()
    assert summary["n"] == n and summary["mean"] == mean
    assert math.isclose(summary["stdev"], math.sqrt(sum(v * v for v in held) / n - mean * mean))
    assert (summary["min"], summary["max"]) == (min(lats), max(lats))
    hist = HdrHistogram(1, HIST_MAX_US, HIST_DIGITS)
    for v in held:
        hist.record_value(v)
    assert [agg.hist.get_count_at_index(i) for i in range(hist.counts_len)] == \
        [hist.get_count_at_index(i) for i in range(hist.counts_len)]
    assert agg.timeline[1]["max_ms"] == round((HIST_MAX_US + 12_345) / 1000, 3)


def test_counter_percentiles_in_any_order_and_with_empty_counts():
    counts = {3: 0, 1: 2, 8: 1, 5: 0}
    assert counter_percentiles(counts, (99, 1, 50)) == [8, 1, 1]
    assert counter_percentiles({4: 0}, (50,)) == [0]
