"""Each heap sample, run under memray with real HTTP load: what the analysis must show."""

from __future__ import annotations

import json

import pytest

from pinkclinic.heap import as_weighted_stacks
from pinkclinic.heap.growth import SMALL_OBJECTS
from pinkclinic.heap.suspects import MIN_LATE_RATIO, MIN_R2
from pinkclinic.jsonio import dumps
from tests.heap.conftest import GUNICORN

KEEP_BYTES = 20_000
ACCURACY = 0.25

pytestmark = pytest.mark.timeout(120)


def _served(run: dict) -> dict:
    """The sample answered (almost) every request with a 2xx: its code really ran."""
    load = run["result"]["load"]
    assert run["requests"] > 100 and run["served"] >= 0.95 * run["requests"], run["ticks"]
    assert load["served"] == run["served"] and load["attempts"] == run["requests"]
    return run["result"]


def _app_suspects(result: dict) -> list[dict]:
    return [s for s in result["suspects"] if s["area"] in ("app", "pymalloc")]


def _considered(result: dict, function: str) -> dict:
    found = [c for c in result["considered"] if c["function"] == function]
    assert found, f"{function} did not grow at all: {result['considered']}"
    return found[0]


def _check_leak(result: dict, function: str, sample: str) -> dict:
    suspects = result["suspects"]
    assert suspects, f"no leak suspect; considered: {result['considered']}"
    top = suspects[0]
    assert (top["function"], top["file"].rsplit("/", 1)[-1]) == (function, sample)
    assert top["confidence"] >= MIN_R2 and top["late_ratio"] >= MIN_LATE_RATIO
    assert top["bytes_per_request"] > 0 and top["bytes_per_second"] > 0
    assert top["stack"][-1][0] == function, "stacks are outermost first"
    issue = result["diagnosis"]
    assert issue["category"] == "memory-leak" and 0 < issue["severity"] <= 1
    culprit = issue["culprits"][0]
    assert culprit["function"] == function and culprit["line"] == top["line"]
    assert culprit["bytes_per_request"] == top["bytes_per_request"]
    assert f"`{function}`" in issue["summary"] and "per request" in issue["summary"]
    json.loads(dumps(result))  # JSON-serialisable, strict (no NaN)
    return top


def test_cache_that_never_evicts_is_a_leak(heap_runs):
    run = heap_runs.get("cache_leak.py")
    top = _check_leak(_served(run), "render_page", "cache_leak.py")
    # a ~3.3 kB page per distinct URL, plus its key and dict slot
    assert 2_500 <= top["bytes_per_request"] <= 5_000


def test_list_that_only_grows_is_a_leak(heap_runs):
    run = heap_runs.get("list_leak.py")
    top = _check_leak(_served(run), "remember_visit", "list_leak.py")
    assert 800 <= top["bytes_per_request"] <= 1_600  # a 1 kB record per request


def test_bounded_lru_cache_is_not_a_leak(heap_runs):
    result = _served(heap_runs.get("lru_cache.py"))
    assert _app_suspects(result) == [] and result["diagnosis"] is None
    site = _considered(result, "render_page")
    # it did grow while filling (1000 pages of ~3.3 kB) - and was cleared for levelling off
    assert site["live_bytes_end"] - site["live_bytes_start"] > 1_000_000, site
    assert site["reason"]


def test_large_allocation_that_stays_the_same_size_is_not_a_leak(heap_runs):
    result = _served(heap_runs.get("big_buffer.py"))
    assert _app_suspects(result) == [] and result["diagnosis"] is None
    site = _considered(result, "lookup_table")
    assert site["live_bytes_end"] >= 32 * 1024 * 1024, site
    # the peak flame graph shows the table, sized in bytes
    table = [(f, b, n) for f, b, n in as_weighted_stacks(result["peak"])
             if f and f[-1][0] == "lookup_table"]
    assert sum(b for _, b, _ in table) >= 32 * 1024 * 1024


def test_known_rate_is_reported_within_25_percent(heap_runs):
    run = heap_runs.get("known_rate.py")
    result = _served(run)
    top = _check_leak(result, "remember_visit", "known_rate.py")
    assert abs(top["bytes_per_request"] - KEEP_BYTES) <= ACCURACY * KEEP_BYTES, top
    # bytes/s agrees with bytes/request times the request rate actually served
    window_s = result["window"]["end"] - result["window"]["start"]
    rate = result["window"]["requests"] / window_s
    assert abs(top["bytes_per_second"] - top["bytes_per_request"] * rate) <= 0.25 * top["bytes_per_second"]
    assert result["diagnosis"]["evidence"]["requests"] == result["window"]["requests"]
    assert result["window"]["requests"] == pytest.approx(run["requests"], rel=0.05)


def test_gunicorn_workers_add_up_to_the_known_rate(heap_runs):
    run = heap_runs.get("known_rate_wsgi.py", target=GUNICORN, follow_fork=True, connections=4)
    result = _served(run)
    assert len(run["files"]) >= 3, "the master and two workers each write a capture"
    assert sum(1 for c in result["captures"] if c["error"] is None) == len(run["files"])
    top = _check_leak(result, "remember_visit", "known_rate_wsgi.py")
    assert abs(top["bytes_per_request"] - KEEP_BYTES) <= ACCURACY * KEEP_BYTES, top
    roots = {frames[0][1] for frames, _, _ in as_weighted_stacks(result["peak"]) if frames}
    assert "<process>" in roots, "each process's peak hangs under its own root frame"
    assert len(result["series"]["processes"]) == len(run["files"])


def test_small_objects_are_pinned_on_the_list_that_holds_them(heap_runs):
    result = _served(heap_runs.get("small_objects_leak.py"))
    top = result["suspects"][0]
    assert top["area"] == "pymalloc", result["suspects"]
    assert top["holders"][0]["function"] == "remember_session"
    culprit = result["diagnosis"]["culprits"][0]
    assert culprit["function"] == "remember_session" and culprit.get("small_objects")
    assert 500 <= culprit["bytes_per_request"] <= 1_600  # ~900 B of dicts, tuples and strings
    # the holder is shown under the small-objects suspect, not among the cleared sites
    assert all(c["function"] != "remember_session" for c in result["considered"])
    # the peak pools the arenas too, instead of blaming whichever frame opened one
    stacks = sorted(as_weighted_stacks(result["peak"]), key=lambda s: -s[1])
    assert stacks[0][0] == [SMALL_OBJECTS], stacks[0][0][-3:]
    assert all(f for f, _, _ in stacks), "no empty stack (they are [no Python stack])"
