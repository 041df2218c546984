"""The reader of probe streams: damaged and unusual files never make it fail."""

from __future__ import annotations

import json

from pinkclinic.collect import probe_stream


def _write(path, objs, tail=""):
    path.write_text("".join(json.dumps(o) + "\n" for o in objs) + tail)


HEADER = {"schema_version": 1, "stream": "probe", "pid": 41, "ppid": 1, "features": ["loop"]}


def test_absent_folder_and_no_files(tmp_path):
    assert probe_stream.load(tmp_path / "missing") == {}
    assert probe_stream.load(tmp_path) == {}
    assert probe_stream.load_pyinstrument(tmp_path / "missing") == {}


def test_torn_and_garbled_lines_are_skipped_and_counted(tmp_path):
    recs = [HEADER,
            {"type": "loop", "event": "start", "t": 1.0, "thread_id": 41, "loop": "uvloop",
             "thread_name": "MainThread"},
            {"type": "lag", "t": 1.2, "thread_id": 41, "n": 5, "p50_ms": 0.2, "max_ms": 0.4},
            {"type": "block", "t": 1.5, "thread_id": 41, "dur_ms": 50, "stack": [], "on_cpu": False},
            {"type": "lag", "t": 1.1, "thread_id": 41, "n": 5, "p50_ms": 0.1, "max_ms": 0.3}]
    path = tmp_path / "probe-41.jsonl"
    _write(path, recs, tail='{"type": "lag", "t": 1.3, "thr')  # killed mid-write
    with open(path, "r+") as f:  # and one garbled line in the middle
        lines = f.read().split("\n")
        lines.insert(3, "\x00\x00garbage")
        f.seek(0)
        f.write("\n".join(lines))
    (proc,) = probe_stream.load(tmp_path).values()
    assert proc.pid == 41 and proc.ppid == 1 and proc.bad_lines == 2
    lt = proc.loops[41]
    assert lt.loop == "uvloop" and lt.thread_name == "MainThread" and lt.runs == [[1.0, None]]
    assert [r["t"] for r in lt.lag] == [1.1, 1.2]  # sorted by time
    assert len(lt.blocks) == 1 and proc.last_t == 1.5 and proc.exit_t is None


def test_a_second_header_and_loop_runs(tmp_path):
    recs = [HEADER,
            {"type": "loop", "event": "start", "t": 1.0, "thread_id": 7, "loop": "asyncio"},
            {"type": "loop", "event": "stop", "t": 2.0, "thread_id": 7},
            {"type": "feature", "feature": "loop", "state": "started", "t": 0.5, "tick_ms": 10},
            {"type": "exit", "t": 2.5},
            {**HEADER, "argv": ["python", "exec'd.py"]},  # the same PID after exec
            {"type": "loop", "event": "stop", "t": 3.0, "thread_id": 7},
            {"type": "feature", "feature": "loop", "state": "stopped", "t": 3.1},
            {"type": "gc", "t": 1.0, "dur_ms": 12.0, "gen": 2},
            {"type": "gcsum", "t": 2.0, "gen": 0, "n": 100, "dur_ms": 3.0},
            {"type": "gcsum", "t": 9.0, "gen": 0, "n": 100, "dur_ms": 4.0},
            {"type": "future-record", "t": 4.0}]
    _write(tmp_path / "probe-41.jsonl", recs)
    (tmp_path / "probe-notapid.jsonl").write_text("{}\n")
    procs = probe_stream.load(tmp_path)
    assert list(procs) == [41]
    proc = procs[41]
    assert len(proc.headers) == 2 and proc.header["features"] == ["loop"]
    assert proc.loops[7].runs == [[1.0, 2.0], [None, 3.0]]
    assert proc.features["loop"]["tick_ms"] == 10 and proc.features["loop"]["stopped_t"] == 3.1
    assert proc.gc_ms() == 19.0 and proc.gc_ms(0, 5) == 15.0
    assert proc.exit_t == 2.5 and proc.last_t == 9.0


def test_newer_schema_is_flagged(tmp_path):
    _write(tmp_path / "probe-5.jsonl", [{**HEADER, "pid": 5, "schema_version": 2}])
    (proc,) = probe_stream.load(tmp_path).values()
    assert [e["feature"] for e in proc.errors] == ["reader"]


def test_pyinstrument_segments_in_order(tmp_path):
    header = {"schema_version": 1, "stream": "pyinstrument", "pid": 9, "interval_s": 0.001}
    segs = [{"t0": 2.0, "t1": 3.0, "stacks": []}, {"t0": 1.0, "t1": 2.0, "stacks": []}]
    _write(tmp_path / "pyinstrument-9.jsonl", [header, *segs], tail='{"t0": 3.0, "t1"')
    data = probe_stream.load_pyinstrument(tmp_path)[9]
    assert data["header"]["interval_s"] == 0.001 and data["bad_lines"] == 1
    assert [s["t0"] for s in data["segments"]] == [1.0, 2.0]
