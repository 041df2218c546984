"""How a run ends: on time against a server that never accepts, and without the
end-of-run drain in ``duration`` or in req/s (answers during the drain still count)."""

from __future__ import annotations

import json
import time

from pinkclinic.load import run_load
from pinkclinic.loadargs import parse_bench_args
from tests.helpers import run_cli


def test_server_that_never_accepts_ends_on_time_with_connect_timeouts(serve):
    s = serve("noaccept")
    t = time.monotonic()
    proc = run_cli("bench", "-d", "2", "-t", "0.5", "-c", "4", "-j", s.url, timeout=60)
    elapsed = time.monotonic() - t
    assert proc.returncode == 1, proc.stderr
    j = json.loads(proc.stdout)
    assert j["requests"]["total"] == 0
    assert j["duration"] == 2.0
    assert j["errorsByKind"].get("timeout", 0) >= 4  # the connects, each after 0.5 s
    assert j["errors"] == sum(j["errorsByKind"].values())
    assert "no responses" in proc.stderr and "Traceback" not in proc.stderr
    assert elapsed < 2 + 0.5 + 6  # before: it waited -t for the connects, then ran -d


def test_connects_still_pending_at_the_end_are_reported(serve):
    s = serve("noaccept")
    proc = run_cli("bench", "-d", "1.5", "-c", "4", "-j", s.url, timeout=60)  # -t 10
    assert proc.returncode == 1
    j = json.loads(proc.stdout)
    assert j["duration"] == 1.5
    assert j["connecting"] + j["inflight"] >= 3  # the backlog may take one connection
    assert "still connecting" in proc.stderr or "in flight" in proc.stderr


def test_the_drain_is_not_in_the_duration(serve):
    s = serve("count", "--delay", "1.5")
    r = run_load(parse_bench_args(["-d", "2", "-c", "10", s.url]))
    assert r.duration == 2.0  # before: 3.01 (the drain was counted)
    assert r.requests == 20 == s.counts()["requests"]  # the second answers land in the drain
    assert r.inflight == 0
    assert sum(t["requests"] for t in r.timeline) == 20
    # the last bin holds the answers of the drain and runs to its end (~1 s after the
    # load window: the second answers land 1.5 s after t=1.5), so its rate is not inflated
    first, last = (t["dur_s"] for t in r.timeline)
    assert first == 1.0 and 1.9 <= last <= 2.5, r.timeline


def test_a_stalled_run_reports_its_load_window(serve):
    s = serve("stall")
    r = run_load(parse_bench_args(["-d", "1", "-c", "3", s.url]))
    assert r.duration == 1.0  # before: 3.0 (one second of load, two of drain)
    assert r.inflight == 3 and r.requests == 0


def test_rate_achieved_is_sends_over_the_load_window(serve):
    s = serve("count", "--delay", "0.3")
    proc = run_cli("bench", "-R", "100", "-d", "3", "-c", "50", "-j", s.url, check=True)
    j = json.loads(proc.stdout)
    assert j["requests"]["total"] == 300 == s.counts()["requests"]
    assert j["duration"] == 3.0
    assert j["rate"]["achieved"] == 100.0  # before: 90.76
