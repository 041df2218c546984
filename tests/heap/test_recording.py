"""A heap recording folder: heap.json and diagnosis.json, series, and bad captures."""

from __future__ import annotations

import shutil

import pytest

from pinkclinic.errors import PinkError
from pinkclinic.heap import SCHEMA_VERSION, analyse
from pinkclinic.heap.capture import MAX_SERIES_POINTS
from pinkclinic.heap.recording import analyse_recording
from pinkclinic.jsonio import JsonlWriter, read_json
from pinkclinic.recording import Recording
from tests.helpers import ROOT


def _recording(tmp_path, run) -> Recording:
    rec = Recording.create(tmp_path, "t", "heap", command=["python", "known_rate.py"])
    for i, f in enumerate(run["files"]):
        shutil.copy(f, rec.path / f"memray-{4000 + i}.bin")
    with JsonlWriter(rec.path / "load.jsonl", "load", url="http://x/") as w:
        for tick in run["ticks"]:
            w.write(tick)
    rec.register("load", "load.jsonl", format="jsonl")
    t0, t1 = run["window"]
    rec.update(timings={"load_start": t0, "load_end": t1}, cwd=str(ROOT))
    return rec


def test_recording_writes_heap_json_and_diagnosis(tmp_path, heap_runs):
    run = heap_runs.get("known_rate.py")
    rec = _recording(tmp_path, run)
    result = analyse_recording(rec.path)
    assert read_json(rec.path / "heap.json") == result
    assert result["schema_version"] == SCHEMA_VERSION
    assert result["window"]["source"] == "given"
    # same answer as the direct analysis of the same capture and timeline
    assert result["suspects"][0]["bytes_per_request"] == pytest.approx(
        run["result"]["suspects"][0]["bytes_per_request"], rel=0.02)
    diag = read_json(rec.path / "diagnosis.json")
    assert diag["schema_version"] == 2 and diag["verdict"] == "memory-leak"
    # doctor's schema: the top-level recommendation (the terminal's "next:"), window, findings
    assert diag["recommendation"] == diag["issues"][0]["recommendation"]
    assert diag["window"] == {"start": result["window"]["start"], "end": result["window"]["end"]}
    (finding,) = diag["findings"]
    assert finding["signal"] == "heap" and finding["status"] == "issue"
    assert finding["category"] == "memory-leak" and finding["evidence"]["load"]["served"] > 0
    culprit = diag["issues"][0]["culprits"][0]
    assert culprit["stack"][-1][:2] == ["remember_visit", culprit["file"]]  # outermost first
    assert diag["issues"][0]["culprits"][0]["function"] == "remember_visit"
    assert "pinkclinic heap -- python known_rate.py" in diag["issues"][0]["recommendation"]
    # file names are shown relative to the target's working directory
    assert diag["summary"].startswith("`remember_visit` in samples/heap/known_rate.py:")


def test_no_leak_recording_is_healthy(tmp_path, heap_runs):
    rec = _recording(tmp_path, heap_runs.get("lru_cache.py"))
    analyse_recording(rec.path)
    diag = read_json(rec.path / "diagnosis.json")
    assert diag["verdict"] == "healthy" and diag["issues"] == []
    assert diag["recommendation"] and diag["findings"][0]["status"] == "none"
    assert diag["signals_missing"] == []


def test_insufficient_data_is_an_issue_with_a_recommendation(tmp_path, heap_runs):
    run = heap_runs.get("known_rate.py")
    t0 = run["window"][0]
    rec = _recording(tmp_path, {**run, "window": (t0, t0 + 0.03)})
    analyse_recording(rec.path)
    diag = read_json(rec.path / "diagnosis.json")
    assert diag["verdict"] == "insufficient-data"
    (issue,) = diag["issues"]
    assert issue["category"] == "insufficient-data" and "memory snapshots" in issue["summary"]
    assert diag["recommendation"] == issue["recommendation"]
    assert "pinkclinic heap" in diag["recommendation"] and "--load" in diag["recommendation"]


def test_a_load_of_errors_is_not_priced(tmp_path, heap_runs):
    """The same capture, with a load timeline where most requests got HTTP 500."""
    run = heap_runs.get("known_rate.py")
    ticks = [{**t, "status": {"500": t["requests"] - t["requests"] // 10,
                              "200": t["requests"] // 10}} for t in run["ticks"]]
    rec = _recording(tmp_path, {**run, "ticks": ticks})
    result = analyse_recording(rec.path)
    assert result["diagnosis"] is None and result["leaks"]["reason"] == "failed-load"
    diag = read_json(rec.path / "diagnosis.json")
    assert diag["verdict"] == "insufficient-data"
    assert "HTTP 500" in diag["summary"] and "got 2xx/3xx" in diag["summary"]
    assert "succeed" in diag["recommendation"]


def test_series_are_downsampled_and_cover_the_run(heap_runs):
    run = heap_runs.get("known_rate.py")
    result = run["result"]
    (proc,) = result["series"]["processes"]
    assert 10 < len(proc["t"]) <= MAX_SERIES_POINTS
    assert len(proc["t"]) == len(proc["rss"]) == len(proc["heap"])
    assert proc["t"] == sorted(proc["t"])
    # ~60 MB kept over the run: both RSS and the tracked heap show it
    assert proc["heap"][-1] - proc["heap"][0] > 30_000_000
    assert proc["rss"][-1] - proc["rss"][0] > 30_000_000
    load = result["series"]["load"]
    assert sum(load["requests"]) == run["requests"]


def test_short_window_is_insufficient_data(heap_runs):
    run = heap_runs.get("known_rate.py")
    t0 = run["window"][0]
    result = analyse(run["files"], window=(t0, t0 + 0.03), requests=run["ticks"])
    assert result["leaks"]["status"] == "insufficient-data"
    assert result["suspects"] == [] and result["diagnosis"] is None
    assert result["peak"]["bytes"] > 0  # the peak is still there


def test_without_a_load_timeline_growth_is_per_second(heap_runs):
    run = heap_runs.get("known_rate.py")
    result = analyse(run["files"], window=run["window"])
    top = result["suspects"][0]
    assert top["function"] == "remember_visit" and top["bytes_per_request"] is None
    assert top["bytes_per_second"] > 1_000_000
    assert "/s" in result["diagnosis"]["summary"]


def test_unreadable_captures_give_one_line_errors(tmp_path):
    empty = tmp_path / "memray-1.bin"
    empty.write_bytes(b"")
    junk = tmp_path / "memray-2.bin"
    junk.write_bytes(b"not a capture" * 100)
    with pytest.raises(PinkError) as e:
        analyse([empty, junk])
    assert "memray-1.bin" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(PinkError, match="no memray capture"):
        analyse([])
    rec = Recording.create(tmp_path, "x", "heap")
    with pytest.raises(PinkError, match="no memray capture"):
        analyse_recording(rec.path)


def test_a_broken_capture_beside_good_ones_is_reported_not_fatal(tmp_path, heap_runs):
    run = heap_runs.get("known_rate.py")
    broken = tmp_path / "memray-9.bin"
    broken.write_bytes(b"")
    result = analyse([*run["files"], broken], window=run["window"], requests=run["ticks"])
    assert result["captures"][-1]["error"] and result["captures"][0]["error"] is None
    assert result["suspects"][0]["function"] == "remember_visit"
