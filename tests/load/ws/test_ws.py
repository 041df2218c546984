"""bench ws://: exact message counts against an echo server, pushed messages, and errors."""

from __future__ import annotations

import json

from tests.helpers import run_cli


def bench_json(*args: str, code: int = 0) -> dict:
    proc = run_cli("bench", "-j", *args)
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def test_echo_message_counts_are_exact(serve):
    s = serve("ws_echo.py")
    r = bench_json("-c", "5", "--per-connection", "300", "--message", "hello",
                   "--message", "world", s.ws + "/")
    assert r["requests"]["total"] == 1500 == s.counts()["messages"]
    assert r["protocol"] == "websocket" and r["websocket"]["mode"] == "roundtrip"
    assert r["errors"] == 0 and r["latency"]["totalCount"] == 1500
    assert 0 < r["latency"]["p50"] <= r["latency"]["p99"] <= r["latency"]["max"]
    assert r["websocket"]["connect"]["count"] == 5 and r["websocket"]["connect"]["p50"] > 0
    assert r["throughput"]["total"] == 1500 * 5  # "hello" and "world" echoed


def test_duration_run_counts_what_the_server_received(serve):
    s = serve("ws_echo.py")
    r = bench_json("-c", "4", "-d", "1.5", "--message", "x" * 100, s.ws + "/")
    assert r["requests"]["total"] > 100
    assert r["inflight"] == 0
    assert r["requests"]["total"] == s.counts()["messages"]


def test_rate_is_paced(serve):
    s = serve("ws_echo.py")
    r = bench_json("-c", "4", "-d", "2", "-R", "300", "--message", "tick", s.ws + "/")
    assert abs(r["requests"]["total"] - 600) <= 600 * 0.05
    assert r["rate"]["target"] == 300


def test_server_push_is_counted(serve):
    s = serve("ws_push.py", "0.01")
    r = bench_json("-c", "3", "-d", "1.5", "--on-connect", "subscribe", s.ws + "/")
    assert r["websocket"]["mode"] == "push"
    assert 150 <= r["requests"]["total"] <= s.counts()["sent"]
    assert r["errors"] == 0


def test_handshake_refusal_is_an_error(serve):
    s = serve("ws_echo.py")
    proc = run_cli("bench", "-j", "-c", "2", "-d", "1", "--message", "m", s.ws + "/forbidden")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"pinkclinic: error: no messages from {s.ws}/forbidden (2 handshake)"]
    r = json.loads(proc.stdout)
    assert r["errorsByKind"] == {"handshake": 2}
    assert r["websocket"]["handshakeStatus"] == {"403": 2}


def test_close_frames_are_errors(serve):
    s = serve("ws_echo.py")
    r = bench_json("-c", "2", "--per-connection", "120", "--message", "m",
                   s.ws + "/close?after=50")
    # each connection: 50 round trips, then a close frame (one failed message), reconnect
    assert r["requests"]["total"] + r["errors"] == 240
    assert r["errorsByKind"]["closed"] == r["errors"] > 0
    assert set(r["websocket"]["closeCodes"]) == {"4000"}


def test_oversized_messages_are_errors(serve):
    s = serve("ws_echo.py")
    r = bench_json("-c", "1", "--per-connection", "3", "--message", "m", s.ws + "/big", code=1)
    assert r["errorsByKind"] == {"oversized": 3}
    r = bench_json("-c", "1", "--per-connection", "3", "--message", "m", "--max-size",
                   str(4 << 20), s.ws + "/big")
    assert r["requests"]["total"] == 3 and r["errors"] == 0


def test_refused_connection_ends_with_one_line(serve):
    from tests.helpers import free_port

    proc = run_cli("bench", "-c", "2", "-d", "5", "--message", "m",
                   f"ws://127.0.0.1:{free_port()}/")
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "refused" in proc.stderr


def test_ws_option_errors():
    for args in (["--message", "m", "-R", "0", "ws://127.0.0.1:9/"],
                 ["-R", "10", "ws://127.0.0.1:9/"],
                 ["--message", "m", "-b", "x", "ws://127.0.0.1:9/"],
                 ["--message", "m", "http://127.0.0.1:9/"],
                 ["--message", "@/no/such/file", "ws://127.0.0.1:9/"]):
        proc = run_cli("bench", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_on_connect_answers_are_not_taken_for_round_trips(serve):
    # the echo server answers the 1,000-byte greeting: that answer must be read before the
    # first timed round trip, or every "x" would be paired with the reply before it
    s = serve("ws_echo.py")
    r = bench_json("-c", "2", "--per-connection", "20", "--on-connect", "g" * 1000,
                   "--message", "x", s.ws + "/?delay=0.01")
    assert r["requests"]["total"] == 40 and r["errors"] == 0
    assert r["throughput"]["total"] == 40  # one byte per round trip, no greeting in it
    assert r["latency"]["min"] >= 10  # each reply was really waited for (the server's delay)
    assert r["websocket"]["onConnectReplies"] == {"answered": 2, "unanswered": 0}


def test_on_connect_without_an_answer_is_said(serve):
    s = serve("ws_echo.py")
    proc = run_cli("bench", "-c", "1", "--per-connection", "10", "--on-connect", "sub",
                   "--message", "x", s.ws + "/mute-first")
    assert proc.returncode == 0, proc.stderr
    assert "1 connection got no answer to --on-connect within 1 s" in proc.stdout
    assert "10 messages in" in proc.stdout


def test_bytes_are_counted_as_sent_on_the_wire(serve):
    s = serve("ws_echo.py")
    r = bench_json("-c", "1", "--per-connection", "10", "--message", "é" * 10, s.ws + "/")
    assert r["throughput"]["total"] == 10 * 20  # UTF-8: two bytes per "é"


def test_a_literal_at_sign_message(serve, tmp_path):
    s = serve("ws_echo.py")
    r = bench_json("-c", "1", "--per-connection", "5", "--message", "@@not-a-file", s.ws + "/")
    assert r["requests"]["total"] == 5 and r["throughput"]["total"] == 5 * len("@not-a-file")


def test_push_mode_has_no_latency_and_l_prints_percentiles(serve):
    push = serve("ws_push.py", "0.01")
    r = bench_json("-c", "1", "-d", "0.5", "--on-connect", "subscribe", push.ws + "/")
    assert r["latency"]["p50"] is None and r["latency"]["max"] is None
    assert r["latency"]["totalCount"] == 0 and r["requests"]["total"] > 0
    echo = serve("ws_echo.py")
    proc = run_cli("bench", "-l", "-c", "1", "--per-connection", "50", "-R", "100", "--message",
                   "m", echo.ws + "/")
    assert proc.returncode == 0, proc.stderr
    assert "Percentile" in proc.stdout and "99.999%" in proc.stdout
    assert "rate: target 100 messages/s, achieved" in proc.stdout  # the footer; not the header


def test_a_slow_pusher_is_not_timing_out(serve):
    # one tick every 0.6 s against -t 0.2: silence is not a late answer, and the end of
    # the run does not wait for a message that nobody asked for
    s = serve("ws_push.py", "0.6")
    r = bench_json("-c", "2", "-d", "1.5", "-t", "0.2", "--on-connect", "subscribe", s.ws + "/")
    assert r["errors"] == 0 and r["timeouts"] == 0, r["errorsByKind"]
    assert 2 <= r["requests"]["total"] <= s.counts()["sent"]
    assert r["websocket"]["connect"]["count"] == 2  # never reconnected
    assert r["duration"] < 1.5 + 0.2


def test_warmup_with_amount_counts_only_after_the_warmup(serve):
    """As in HTTP/1.1: -a counts the messages after the warm-up, closed loop and paced."""
    s = serve("ws_echo.py")
    r = bench_json("-c", "3", "--warmup", "0.5", "-a", "300", "--message", "x", s.ws + "/")
    assert r["requests"]["total"] == 300 and r["errors"] == 0
    warm = s.counts()["messages"] - 300
    assert warm > 30, warm  # the warm-up's messages reached the server, uncounted
    r = bench_json("-c", "3", "--warmup", "0.5", "-R", "400", "-a", "100", "--message", "x",
                   s.ws + "/")
    assert r["requests"]["total"] == 100 and r["errors"] == 0
    assert s.counts()["messages"] - 300 - warm > 150  # ~200 sent in the paced warm-up
    r = bench_json("-c", "3", "--warmup", "0.3", "--per-connection", "40", "--message", "x",
                   s.ws + "/")
    assert r["requests"]["total"] == 120 and r["errors"] == 0
