"""Exact counts against a server that counts what it receives."""

from __future__ import annotations

import json

import pytest
from hdrh.histogram import HdrHistogram

from pinkclinic.load import run_load
from pinkclinic.load.core.result import pkey
from pinkclinic.load.core.stats import ALL_PERCENTILES, ms
from pinkclinic.loadargs import parse_bench_args
from tests.helpers import run_cli


def load(url: str, *args: str):
    return run_load(parse_bench_args([*args, url]))


def test_amount_is_exact(serve):
    s = serve("count")
    r = load(s.url, "-a", "537", "-c", "7")
    assert r.requests == 537
    assert r.status == {200: 537}
    assert r.error_count == 0
    assert s.counts()["requests"] == 537
    assert r.latency["n"] == 537
    assert sum(t["requests"] for t in r.timeline) == 537


def test_duration_run_counts_what_the_server_counted(serve):
    s = serve("count")
    r = load(s.url, "-d", "1.5", "-c", "10")
    assert r.requests > 100
    assert r.inflight == 0
    assert s.counts()["requests"] == r.requests
    assert 1.4 < r.duration < 3.5
    assert sum(t["requests"] for t in r.timeline) == r.requests


def test_pipelining_is_exact(serve):
    s = serve("count")
    r = load(s.url, "-a", "1000", "-c", "3", "-p", "8")
    assert r.requests == 1000 == s.counts()["requests"]
    assert r.error_count == 0


def test_non2xx_are_counted(serve):
    s = serve("count", "--status-every", "4:503")
    r = load(s.url, "-a", "400", "-c", "4")
    assert r.status == {200: 300, 503: 100}
    assert r.non2xx == 100
    j = r.to_json()
    assert j["non2xx"] == 100 and j["5xx"] == 100 and j["2xx"] == 300
    assert j["statusCodeStats"] == {"200": {"count": 300}, "503": {"count": 100}}
    assert j["errors"] == 0


def test_workers_merge_to_the_same_totals_as_one_process(serve):
    s = serve("count")
    one = load(s.url, "-a", "1200", "-c", "4")
    two = load(s.url, "-a", "1200", "-c", "4", "-w", "2")
    assert one.requests == two.requests == 1200
    assert s.counts()["requests"] == 2400
    assert one.status == two.status == {200: 1200}
    assert two.latency["n"] == 1200
    assert sum(t["requests"] for t in two.timeline) == 1200
    j = two.to_json()
    assert j["latency"]["totalCount"] == 1200 and j["workers"] == 2
    # the percentiles come from one histogram of both workers' requests: the exported one
    # (HDR's bucket tops capped at the largest latency seen)
    hist = HdrHistogram.decode(j["histogram"]["data"])
    assert hist.get_total_count() == 1200
    top = two.latency["max"]
    for p in ALL_PERCENTILES:
        assert j["latency"][pkey(p)] == ms(min(hist.get_value_at_percentile(p), top))
    # and each second's p50/p99 are exact over both workers' requests of that second
    assert all(t["p50_ms"] <= t["p99_ms"] <= t["max_ms"] for t in two.timeline)
    assert max(t["max_ms"] for t in two.timeline) == j["latency"]["max"]


def test_one_worker_process_gives_ticks_in_this_process(serve):
    s = serve("count")
    ticks = []
    r = run_load(parse_bench_args(["-d", "2", "-c", "4", "-w", "1", s.url]), on_tick=ticks.append)
    assert ticks == r.timeline
    assert len(ticks) == 2
    assert sum(t["requests"] for t in ticks) == r.requests == s.counts()["requests"]
    for t in ticks:
        assert set(t) >= {"t", "requests", "bytes", "errors", "timeouts", "status",
                          "p50_ms", "p99_ms", "max_ms"}
        assert t["p50_ms"] <= t["p99_ms"] <= t["max_ms"]
    assert ticks[1]["t"] - ticks[0]["t"] == 1.0


def test_request_sequence_and_unique_ids(serve, tmp_path):
    s = serve("count", "--record")
    seq = tmp_path / "seq.yaml"
    seq.write_text(
        "- {method: POST, path: '/items?id=[<id>]', headers: {X-Req: '[<id>]'}, body: '{\"id\": \"[<id>]\"}'}\n"
        "- {method: GET, path: /items}\n")
    r = load(s.url, "-a", "200", "-c", "1", "--requests", str(seq))  # one connection: exact mix
    assert r.requests == 200
    c = s.counts()
    assert c["methods"] == {"POST": 100, "GET": 100}
    ids = [p.split("=", 1)[1] for p in c["paths"] if "id=" in p]
    assert len(ids) == 100 == len(set(ids))
    assert all("[<id>]" not in p for p in c["paths"])
    bodies = [json.loads(b)["id"] for b in c["bodies"] if b]
    assert sorted(bodies) == sorted(ids)
    assert sorted(h.split(": ")[1] for h in c["headers"]) == sorted(ids)


def test_cli_amount_json(serve):
    s = serve("count")
    proc = run_cli("bench", "-a", "300", "-c", "5", "-j", s.url, check=True)
    j = json.loads(proc.stdout)
    assert j["requests"]["total"] == 300
    assert s.counts()["requests"] == 300
    for key in ("p2_5", "p50", "p75", "p90", "p97_5", "p99", "p99_9", "p99_99", "max", "mean",
                "stddev"):
        assert isinstance(j["latency"][key], float), key
    assert j["latency"]["p50"] <= j["latency"]["p99"] <= j["latency"]["max"]
    assert j["schema_version"] == 2 and j["duration"] > 0
    # autocannon's start/finish: ISO 8601 in UTC, as JavaScript writes a Date; epochs beside
    from datetime import datetime
    start = datetime.fromisoformat(j["start"].replace("Z", "+00:00"))
    assert j["start"].endswith("Z") and abs(start.timestamp() - j["start_epoch"]) < 0.001
    assert j["finish_epoch"] - j["start_epoch"] == pytest.approx(j["duration"], abs=0.002)
    assert j["requests"]["average"] > 0 and j["throughput"]["total"] > 0


def test_ids_are_unique_across_workers_and_runs(serve, tmp_path):
    s = serve("count", "--record")
    seq = tmp_path / "seq.json"
    seq.write_text('[{"path": "/i/[<id>]"}]')
    for _ in range(2):
        r = load(s.url, "-a", "300", "-c", "4", "-w", "2", "--requests", str(seq))
        assert r.requests == 300
    paths = s.counts()["paths"]
    assert len(paths) == 600 == len(set(paths))
