"""The library API that doctor, flame and heap call: async variant, warm-up, JSON shape."""

from __future__ import annotations

import asyncio
import json
import warnings

import pytest

from pinkclinic.jsonio import dumps
from pinkclinic.load import LoadResult, run_load, run_load_async
from pinkclinic.loadargs import parse_bench_args


def test_async_variant_in_process_and_in_a_worker(serve):
    s = serve("count")

    async def main():
        ticks = []
        a = await run_load_async(parse_bench_args(["-a", "300", "-c", "3", s.url]))
        b = await run_load_async(parse_bench_args(["-d", "1", "-c", "3", "-w", "1", s.url]),
                                 on_tick=ticks.append)
        return a, b, ticks

    a, b, ticks = asyncio.run(main())
    assert isinstance(a, LoadResult) and a.requests == 300
    assert b.requests > 0 and ticks == b.timeline
    assert s.counts()["requests"] == 300 + b.requests


def test_warmup_is_not_counted(serve):
    s = serve("count")
    r = run_load(parse_bench_args(["--warmup", "1", "-d", "1", "-c", "2", s.url]))
    served = s.counts()["requests"]
    assert r.requests > 0
    assert served > r.requests * 1.3  # the warm-up's requests reached the server
    assert len(r.timeline) == 1
    assert 0.9 < r.duration < 2


def test_result_json_is_serialisable_and_sorted(serve):
    s = serve("count")
    r = run_load(parse_bench_args(["-a", "100", "-c", "2", s.url]))
    j = json.loads(dumps(r.to_json()))
    assert j["requests"]["total"] == 100
    assert j["timeline"] == r.timeline
    assert j["histogram"]["unit"] == "us" and j["histogram"]["data"]
    assert j["latency"]["totalCount"] == 100
    from hdrh.histogram import HdrHistogram

    h = HdrHistogram.decode(j["histogram"]["data"])
    assert h.get_total_count() == 100


def test_warmup_with_amount_counts_only_after_the_warmup(serve):
    s = serve("count")
    r = run_load(parse_bench_args(["--warmup", "0.5", "-a", "300", "-c", "3", s.url]))
    assert r.requests == 300
    assert s.counts()["requests"] > 300


def test_run_load_inside_a_running_loop_says_what_to_use_instead():
    spec = parse_bench_args(["-a", "1"], base_url="http://127.0.0.1:9")

    async def main():
        with pytest.raises(RuntimeError, match=r"await run_load_async"):
            run_load(spec)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 'coroutine ... was never awaited'
        asyncio.run(main())
