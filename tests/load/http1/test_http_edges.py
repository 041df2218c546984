"""HTTP edge cases: 101 responses, exact reconnect counts, credentials in the URL,
and running out of file descriptors."""

from __future__ import annotations

import base64
import json
import resource

from pinkclinic.load import run_load
from pinkclinic.loadargs import parse_bench_args
from tests.helpers import pinkclinic_cmd


def load(url: str, *args: str):
    return run_load(parse_bench_args([*args, url]))


def test_101_responses_are_counted_and_no_request_vanishes(serve):
    s = serve("upgrade")
    r = load(s.url, "-a", "50", "-c", "2")
    assert r.status == {101: 50}
    assert r.requests == 50 and r.error_count == 0
    j = r.to_json()
    assert j["requests"]["sent"] == 50 and j["1xx"] == 50 and j["non2xx"] == 50
    c = s.counts()
    assert c["requests"] == 50
    # the server also counted the fixture's port probe and this /__count
    assert c["connections"] == 50 + 2
    assert r.reconnects == 50 - 2  # every 101 ends its connection; two are first connections


def test_reconnects_count_new_connections_only(serve):
    s = serve("count", "--close")
    r = load(s.url, "-a", "500", "-c", "10")
    assert r.requests == 500
    c = s.counts()
    # every connection after each slot's first is a reconnect, and only those (before: one
    # per retired connection, also the last ones, which were never replaced)
    assert c["connections"] == 500 + 2  # plus the fixture's port probe and this /__count
    assert r.reconnects == 490


def test_credentials_in_the_url_become_basic_auth_and_leave_the_host_alone(serve):
    s = serve("count", "--record")
    url = f"http://user:p%40ss@127.0.0.1:{s.port}/x?q=1#frag"
    r = load(url, "-a", "2", "-c", "1")
    assert r.requests == 2
    c = s.counts()
    assert c["hosts"] == [f"127.0.0.1:{s.port}"] * 2
    assert c["auths"] == ["Basic " + base64.b64encode(b"user:p@ss").decode()] * 2
    assert c["paths"] == ["/x?q=1"] * 2


def test_an_authorization_header_wins_over_the_url(serve):
    s = serve("count", "--record")
    r = load(f"http://u:p@127.0.0.1:{s.port}/", "-a", "1", "-H", "Authorization: Bearer t")
    assert r.requests == 1
    assert s.counts()["auths"] == ["Bearer t"]


def test_running_out_of_file_descriptors_is_its_own_error_kind(serve):
    import subprocess

    s = serve("count")

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (120, 120))

    proc = subprocess.run(pinkclinic_cmd("bench", "-d", "1", "-c", "300", "-j", s.url),
                          capture_output=True, text=True, timeout=60, preexec_fn=low_limit)
    assert "Traceback" not in proc.stderr, proc.stderr
    j = json.loads(proc.stdout)
    assert j["errorsByKind"].get("fd-limit", 0) > 0, j["errorsByKind"]
    assert "connect" not in j["errorsByKind"]
    assert any("ulimit -n" in n and "120" in n for n in j["notes"]), j["notes"]
    assert j["requests"]["total"] > 0  # the connections that did open still ran
