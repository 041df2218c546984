"""The waits verdict's thresholds, each from both sides, derived from the constants: the
share of request time a class of waits must hold (pool and lock: QUEUE_SHARE, io:
IO_SHARE), the latency bars (SLOW_P50_MS, IO_SLOW_P50_MS), which class leads when several
pass, what a background task is (BACKGROUND_PRESENCE), and the missing streams that
give no verdict. Synthetic ``waits`` records (v2), no CPU seen, so that each share is
exactly its tasks' part of the snapshots (see tests/analysis/test_waits.py)."""

from __future__ import annotations

import math

import pytest

from pinkclinic.analysis import waits_verdict as wv
from pinkclinic.analysis.finding import INSUFFICIENT, ISSUE, NONE
from pinkclinic.analysis.io_wait import IO_LATENCY_P50_MS
from pinkclinic.analysis.waits import BACKGROUND_PRESENCE, wait_profile
from tests.analysis.test_waits import ACQUIRE, EVERY, LOCK, READ, SLEEP, leaf, recording, request
from tests.synth import SITE_FRAME, Synth, frame

BELOW, ABOVE = 0.97, 1.03
TOTAL = 100.0  # tasks in each snapshot: a class's count is its share in percent

POOL = (request(frame("get_orders", 24), ACQUIRE), leaf("semaphore", "asyncio.Semaphore@7f01", value=0))
LOCKED = (request(frame("current_token", 24), LOCK), leaf("lock", "asyncio.Lock@7f02"))
SOCKET = (request(frame("fetch_price", 35), READ), leaf("socket", "127.0.0.1:5432"))
READY = (request(frame("render", 40)), leaf("ready"))  # runnable: the "cpu" class, no verdict
WHAT = {"pool": POOL, "lock": LOCKED, "io": SOCKET}


def split(**shares: float) -> list[tuple]:
    """Groups for :func:`recording`: each class's share of TOTAL tasks, the rest ready."""
    groups = [(WHAT[c][0], TOTAL * sh, WHAT[c][1]) for c, sh in shares.items()]
    rest = TOTAL * (1 - sum(shares.values()))
    return groups + ([(READY[0], rest, READY[1])] if rest > 1e-9 else [])


def verdict(tmp_path, *, p50_ms: float = 100.0, **shares: float):
    f = wv.analyse(recording(tmp_path, split(**shares), p50_ms=p50_ms, cores=0.0).data())
    for cls, share in shares.items():  # the shares are as built (no CPU counted)
        assert f.evidence["shares"][cls] == pytest.approx(share, abs=1e-6)
    return f


@pytest.mark.parametrize("cls", ["pool", "lock"])
@pytest.mark.parametrize("side", [BELOW, ABOVE])
def test_queue_share_threshold(tmp_path, cls, side):
    f = verdict(tmp_path, **{cls: wv.QUEUE_SHARE * side})
    if side > 1:
        assert f.status == ISSUE and f.category == wv.CATEGORIES[cls], f.summary
        assert f.culprits[0].function == WHAT[cls][0][-2][0]
    else:
        assert f.status == NONE and f.category is None, f.summary


@pytest.mark.parametrize("side", [BELOW, ABOVE])
def test_io_share_threshold(tmp_path, side):
    f = verdict(tmp_path, io=wv.IO_SHARE * side)
    assert (f.category == "io-wait") is (side > 1), f.summary
    assert f.status == (ISSUE if side > 1 else NONE)
    if side > 1:
        assert f.culprits[0].extra["resource"] == "127.0.0.1:5432"


@pytest.mark.parametrize("cls", ["pool", "lock"])
@pytest.mark.parametrize("side", [0.9, 1.0])
def test_queueing_needs_slow_requests(tmp_path, cls, side):
    """Requests held in a queue most of their time, but answered in under SLOW_P50_MS: no
    verdict. At the bar itself they are slow enough."""
    f = verdict(tmp_path, p50_ms=wv.SLOW_P50_MS * side, **{cls: 0.9})
    assert f.evidence["latency_p50_ms"] == pytest.approx(wv.SLOW_P50_MS * side)
    assert f.status == (ISSUE if side >= 1 else NONE), f.summary


@pytest.mark.parametrize("side", [0.9, 1.0])
def test_io_wait_needs_the_io_analyser_s_latency_bar(tmp_path, side):
    """io-wait takes the io analyser's bar (one constant for both), higher than queueing's."""
    assert wv.IO_SLOW_P50_MS == IO_LATENCY_P50_MS > wv.SLOW_P50_MS
    f = verdict(tmp_path, p50_ms=wv.IO_SLOW_P50_MS * side, io=0.9)
    assert f.status == (ISSUE if side >= 1 else NONE), f.summary
    # between the two bars, a pool's queue is slow enough, a backend is not
    g = verdict(tmp_path / "pool", p50_ms=wv.IO_SLOW_P50_MS * 0.9, pool=0.9)
    assert g.category == "pool-exhausted"


@pytest.mark.parametrize("pool, lock, io, category", [
    # both queues past the bar: the larger leads, whichever it is
    (wv.QUEUE_SHARE + 0.05, wv.QUEUE_SHARE + 0.1, 0.0, "lock-contention"),
    (wv.QUEUE_SHARE + 0.1, wv.QUEUE_SHARE + 0.05, 0.0, "pool-exhausted"),
    (wv.QUEUE_SHARE + 0.05, wv.QUEUE_SHARE + 0.05, 0.0, "pool-exhausted"),  # a tie: pool first
    # a pool in front of a backend: the pool while requests wait longer for it...
    (wv.IO_SHARE, 0.0, wv.IO_SHARE, "pool-exhausted"),
    (wv.IO_SHARE + 0.02, 0.0, wv.IO_SHARE - 0.02, "pool-exhausted"),
    # ... the backend once they wait longer in it than for the pool
    (wv.QUEUE_SHARE + 0.02, 0.0, wv.IO_SHARE + 0.02, "io-wait"),
], ids=["lock-larger", "pool-larger", "queues-tie", "pool-backend-tie", "pool-longer",
        "backend-longer"])
def test_the_class_holding_most_request_time_leads(tmp_path, pool, lock, io, category):
    f = verdict(tmp_path, pool=pool, lock=lock, io=io)
    assert f.category == category, f.summary
    lead = {"pool-exhausted": "pool", "lock-contention": "lock", "io-wait": "io"}[category]
    assert f.culprits[0].extra["kind"] == WHAT[lead][1]["kind"]  # the leading class's sites
    assert all(c.extra["kind"] == WHAT[lead][1]["kind"] for c in f.culprits)


def with_heartbeat(tmp_path, presence: float, count: float = 1.0):
    """Requests reading a socket in every snapshot; the app's own ``heartbeat`` task
    (outermost frame the user's code) asleep in ``presence`` of them, spread evenly."""
    s = Synth(tmp_path, load_s=4.0)
    s.processes(pid=100, cores=0.0)
    s.load(rps=100, p50_ms=2.0)
    p = s.probe(pid=100)
    p.loop()
    beat = ([frame("heartbeat", 50), SLEEP], count, leaf("sleep"))
    for i, t in enumerate(s.times(EVERY)):
        groups = [(SOCKET[0], 3, SOCKET[1])]
        if math.floor((i + 1) * presence) > math.floor(i * presence):
            groups.append(beat)
        p.record("waits", t=t, v=2, thread_id=100, n=sum(c for _, c, _ in groups),
                 walked=sum(c for _, c, _ in groups), dt_ms=EVERY * 1000, dur_ms=0.1, other=0,
                 stacks=[[st, c] for st, c, _ in groups], leaves=[lf for _, _, lf in groups])
    return wait_profile(s.data())


@pytest.mark.parametrize("side", [0.95, 1.05])
def test_background_presence_threshold(tmp_path, side):
    """An app task seen alone in at least BACKGROUND_PRESENCE of its loop's snapshots is a
    background task (left out); less often, it is a request like any other."""
    presence = min(1.0, BACKGROUND_PRESENCE * side)
    profile = with_heartbeat(tmp_path, presence)
    seen = next(s for s in [*profile.sites, *profile.background] if s.function == "heartbeat")
    assert len(seen.per_snapshot) / len(profile.snapshots) == pytest.approx(presence, abs=0.02)
    background = [s.function for s in profile.background]
    assert background == (["heartbeat"] if side > 1 else []), background
    assert ("heartbeat" in [s.function for s in profile.sites]) is (side < 1)


def test_a_task_seen_twice_at_once_is_never_background(tmp_path):
    """Always there, but two at a time: requests, not one background task."""
    profile = with_heartbeat(tmp_path, 1.0, count=2)
    assert profile.background == [] and "heartbeat" in [s.function for s in profile.sites]


# -- missing streams: insufficient-data or no verdict, never a wrong one --------------

def test_no_probe_is_a_missing_signal(tmp_path):
    s = Synth(tmp_path, load_s=4.0)
    s.processes(cores=0.0)
    s.load(rps=100, p50_ms=500.0)
    f = wv.analyse(s.data())
    assert f.status == INSUFFICIENT and f.missing == ["waits"]


def test_a_probe_without_an_event_loop_is_no_missing_signal(tmp_path):
    """A sync server's probe walks no tasks: there is nothing to snapshot, not a signal lost."""
    s = Synth(tmp_path, load_s=4.0)
    s.processes(cores=0.0)
    s.load(rps=100, p50_ms=500.0)
    s.probe()
    f = wv.analyse(s.data())
    assert f.status == INSUFFICIENT and f.missing == []


def test_without_the_load_s_latency_there_is_no_verdict(tmp_path):
    """Requests queued 90% of their time on a pool, but no latency to say they were slow
    (no load.jsonl): no verdict, whatever the shares."""
    s = Synth(tmp_path, load_s=4.0, options={"no_load": True})
    s.processes(cores=0.0)
    p = s.probe()
    p.loop()
    for t in s.times(EVERY):
        groups = split(pool=0.9)
        p.record("waits", t=t, v=2, thread_id=100, n=TOTAL, walked=TOTAL, dt_ms=EVERY * 1000,
                 dur_ms=0.1, other=0, stacks=[[st, c] for st, c, _ in groups],
                 leaves=[lf for _, _, lf in groups])
    f = wv.analyse(s.data())
    assert f.evidence["shares"]["pool"] == pytest.approx(0.9)
    assert f.evidence["latency_p50_ms"] is None and f.status == NONE and f.category is None


def test_snapshots_without_a_request_are_no_verdict(tmp_path):
    """Only the framework's idle connections were seen waiting: nothing served requests."""
    idle = [SITE_FRAME, ["RequestHandler.start", "/usr/lib/python3/dist-packages/aiohttp/web_protocol.py", 600]]
    f = wv.analyse(recording(tmp_path, [(idle, 20, leaf("socket", "127.0.0.1:8000"))],
                             p50_ms=500.0, cores=0.0).data())
    assert f.status == NONE and f.summary == "no request was seen waiting"
    assert f.evidence["request_seconds"] == 0
