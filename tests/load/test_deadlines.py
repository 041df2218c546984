"""Every ``-a`` run ends, whatever the server does, with the same result for every protocol.

A server that never answers is no reason to reach the deadline: every request ends as a
timeout, for HTTP/1.1, HTTP/2 and WebSocket alike. The deadline (docs/bench.md, "Duration
and the end of a run") is reached only through a bug of the load generator; two real
servers led the lanes engine (HTTP/2, WebSocket) into one, and before the deadline
those runs never ended:

* an HTTP/2 server that refuses every stream with a graceful GOAWAY: each refused request
  is sent again (``retry``), without bound;
* a WebSocket ``-R`` run whose server went away used to be the second: a lane whose
  reconnects were refused took the end-of-schedule markers as failed units and never
  stopped. A lane now stops at its marker, and the run ends by its amount: the test of
  that case is its regression test.

No real server behaviour is known to reach the HTTP/1.1 engine's deadline or either
engine's stall: every request there ends as an answer, an error or a timeout.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import free_port, run_cli, server

LANES_SERVERS = Path(__file__).with_name("lanes_servers.py")


@pytest.fixture
def lanes_serve():
    """``lanes_serve("h2refuse")`` starts tests/load/lanes_servers.py; returns its port."""
    with contextlib.ExitStack() as stack:
        def start(mode: str) -> int:
            port = free_port()
            stack.enter_context(server([sys.executable, str(LANES_SERVERS), mode, str(port)],
                                       port))
            return port

        yield start


def bench_json(*args: str, code: int = 1) -> tuple[dict, str, float]:
    t = time.monotonic()
    proc = run_cli("bench", "-j", *args, timeout=60)
    elapsed = time.monotonic() - t
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == code, proc.stderr  # 1: nothing answered
    return json.loads(proc.stdout), proc.stderr, elapsed


@pytest.mark.parametrize("protocol", ["http1", "h2", "ws"])
def test_a_server_that_never_answers_ends_by_the_amount_in_timeouts(protocol, serve, lanes_serve):
    if protocol == "http1":
        args = [serve("stall").url]
    elif protocol == "h2":
        args = ["--http2", f"http://127.0.0.1:{lanes_serve('h2silent')}/"]
    else:
        args = ["--message", "hi", f"ws://127.0.0.1:{lanes_serve('wssilent')}/"]
    j, _, elapsed = bench_json("-a", "6", "-c", "2", "-t", "0.2", *args)
    assert j["errorsByKind"] == {"timeout": 6}
    assert j["timeouts"] == 6 and j["requests"]["total"] == 0 and j["requests"]["sent"] == 6
    assert j["endedBy"] is None and j["unsent"] == 0 and j["inflight"] == 0
    assert j["notes"] == []
    # 3 rounds of 0.2 s, far inside the deadline (1 + 3 x (2 x 0.3 + 1) + 0.2 = 6 s)
    assert j["duration"] < 6 and elapsed < 30


def test_h2_streams_refused_forever_end_at_the_deadline(lanes_serve):
    port = lanes_serve("h2refuse")
    j, err, elapsed = bench_json("--http2", "-a", "2", "-c", "2", "-t", "0.1",
                                 f"http://127.0.0.1:{port}/")
    assert j["endedBy"] == "deadline"
    # the load window: 1 s + one round of (2 x (-t + 0.1 s) + 1 s) + -t
    assert j["duration"] == 2.5
    assert j["unsent"] == 2  # each refusal gave its request back: none was ever sent
    assert j["inflight"] == 0 and j["requests"]["sent"] == 0 and j["errors"] == 0
    assert j["reconnects"] > 2  # the retries, one a GOAWAY (50 ms)
    note = ("the run passed its deadline of 2.5s (for -a 2 over -c 2 with -t 0.1s); 0 "
            "requests sent got no answer and 2 were never sent. This is a bug of "
            "pinkclinic's load generator: please report it")
    assert j["notes"] == [note]
    assert "no requests from" in err
    assert elapsed < 30  # before: never ended


def test_ws_rate_run_whose_server_goes_away_ends_by_its_amount(lanes_serve):
    port = lanes_serve("wsquit")  # echoes 2 messages, then exits
    j, _, elapsed = bench_json("-a", "4", "-c", "2", "-R", "10", "-t", "0.2", "--message", "hi",
                               f"ws://127.0.0.1:{port}/", code=0)
    # all 4 taken: 2 answered, 2 used up by refused reconnects; then each lane takes its
    # end marker and stops (it used to retry until the deadline, 4.4 s)
    assert j["endedBy"] is None and j["unsent"] == 0 and j["inflight"] == 0, j
    assert j["requests"]["total"] == 2 and j["timeouts"] == 0
    assert j["errorsByKind"].get("refused", 0) >= 1
    assert j["duration"] < 4.4 and not any("deadline" in n for n in j["notes"]), j
    assert elapsed < 30
