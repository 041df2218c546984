"""Servers that misbehave: the run counts it, goes on, and always ends."""

from __future__ import annotations

import time

from pinkclinic.load import run_load
from pinkclinic.loadargs import parse_bench_args
from tests.helpers import free_port, run_cli


def load(url: str, *args: str):
    return run_load(parse_bench_args([*args, url]))


def test_stalling_server_times_out_and_the_run_ends(serve):
    s = serve("stall")
    t = time.monotonic()
    r = load(s.url, "-d", "2.5", "-c", "4", "-t", "1")
    elapsed = time.monotonic() - t
    assert r.requests == 0
    assert r.timeouts >= 4
    assert r.errors == {"timeout": r.timeouts}
    assert elapsed < 2.5 + 1 + 5  # duration + drain (capped by the timeout) + slack
    assert sum(t["timeouts"] for t in r.timeline) == r.timeouts


def test_reset_mid_response(serve):
    s = serve("reset")
    r = load(s.url, "-d", "1.5", "-c", "2")
    assert r.requests == 0
    assert r.errors.get("reset", 0) >= 2
    assert r.reconnects >= 2


def test_garbage_is_malformed_and_the_run_goes_on(serve):
    s = serve("garbage")
    r = load(s.url, "-a", "50", "-c", "2")
    assert r.requests == 0
    assert r.errors == {"malformed": 50}
    assert r.reconnects >= 40


def test_refused_ends_at_once_with_an_error(serve):
    port = free_port()
    t = time.monotonic()
    proc = run_cli("bench", "-d", "5", "-c", "3", f"http://127.0.0.1:{port}/", timeout=60)
    assert time.monotonic() - t < 30
    assert proc.returncode == 1
    assert "refused" in proc.stdout
    assert proc.stderr.strip().splitlines() == [
        f"pinkclinic: error: no responses from http://127.0.0.1:{port}/ (3 refused)"]
    assert "Traceback" not in proc.stderr


def test_refused_with_amount_does_not_hang():
    port = free_port()
    r = load(f"http://127.0.0.1:{port}/", "-a", "100", "-c", "2")
    assert r.requests == 0
    assert r.errors == {"refused": 2}


def test_server_that_drops_every_connection(serve):
    s = serve("drop")
    proc = run_cli("bench", "-d", "1.5", "-c", "2", "-j", s.url, timeout=60)
    assert proc.returncode == 1
    assert "no responses" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_stop_event_ends_the_run_promptly(serve):
    import threading

    s = serve("count")
    stop = threading.Event()
    threading.Timer(1.2, stop.set).start()
    t = time.monotonic()
    r = run_load(parse_bench_args(["-d", "30", "-c", "4", s.url]), stop=stop)
    assert time.monotonic() - t < 10
    assert r.interrupted
    assert r.requests > 0
    assert 1.0 < r.duration < 5
