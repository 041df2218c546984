"""Rate mode: even pacing, and wrk2's correction for coordinated omission.

Assertions leave wide margins: this box has 2 shared cores.
"""

from __future__ import annotations

from pinkclinic.load import run_load
from pinkclinic.loadargs import parse_bench_args


def load(url: str, *args: str):
    return run_load(parse_bench_args([*args, url]))


def test_rate_is_paced_evenly(serve):
    s = serve("count")
    r = load(s.url, "-R", "300", "-d", "3", "-c", "5")
    assert 0.85 * 900 <= r.requests <= 1.05 * 900
    assert r.requests == s.counts()["requests"]
    # even pacing, not a burst at the start of each second: every second gets its share
    for t in r.timeline:
        assert 0.6 * 300 <= t["requests"] / t["dur_s"] <= 1.4 * 300, r.timeline
    j = r.to_json()
    assert j["rate"]["target"] == 300 and j["rate"]["corrected"] is True


def test_rate_with_amount_sends_exactly_that_many(serve):
    s = serve("count")
    r = load(s.url, "-R", "500", "-a", "400", "-c", "4")
    assert r.requests == 400 == s.counts()["requests"]
    assert 0.5 < r.duration < 3


def test_rate_split_across_workers(serve):
    s = serve("count")
    r = load(s.url, "-R", "400", "-d", "2", "-c", "4", "-w", "2")
    assert 0.85 * 800 <= r.requests <= 1.05 * 800
    assert r.requests == s.counts()["requests"]


def test_a_server_pause_shows_in_p99_only_with_correction(serve):
    # Two connections, 200 req/s for 3 s, and the server stops for 1 s after 1 s.
    # Measured from the actual send, only the 2 requests caught in the pause are slow
    # (0.3% of 600): p99 stays low. Measured from the intended send time (wrk2), the
    # ~200 requests queued behind the pause are charged for it: p99 shows the pause.
    args = ["-R", "200", "-d", "3", "-c", "2"]
    s = serve("count", "--pause-after", "1", "--pause-for", "1")
    corrected = load(s.url, *args)
    s2 = serve("count", "--pause-after", "1", "--pause-for", "1")
    raw = load(s2.url, *args, "--no-correction")
    assert corrected.latency_ms(99) >= 600, corrected.to_json(timeline=False)["latency"]
    assert corrected.latency_ms(90) >= 100
    assert corrected.latency["max"] >= 800_000
    assert raw.latency_ms(99) < 600, raw.to_json(timeline=False)["latency"]
    assert raw.latency["max"] >= 800_000  # the requests caught in the pause itself
    # the second that held the pause shows it in the timeline too
    assert max(t["p99_ms"] for t in corrected.timeline) >= 600
