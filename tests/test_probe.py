"""pinkclinic's side of the probe: the one reader of its streams, and how its own code and
threads are told from the target's.

Files the real probe writes: a header line, then records in the order they happened
(each type in time order, types interleaved); a kill mid-write leaves a torn last line;
a process that exec'd another Python under the same PID appends its own header."""

from __future__ import annotations

import ast
import json

import pytest

from pinkclinic.probe import (
    THREAD_PREFIX,
    is_probe_file,
    probe_headers,
    probe_paths,
    probe_records,
    read_probe_file,
)
from tests.helpers import ROOT


def _write(path, objs, tail=""):
    path.write_text("".join(json.dumps(o) + "\n" for o in objs) + tail)


HEADER = {"schema_version": 1, "stream": "probe", "pid": 41, "ppid": 1, "features": ["loop"]}


def test_absent_folder_and_no_files(tmp_path):
    assert probe_records(tmp_path / "missing") == {} and probe_headers(tmp_path / "missing") == {}
    assert probe_records(tmp_path) == {} and probe_headers(tmp_path) == {}


def test_a_torn_last_line_is_skipped_and_a_damaged_middle_is_an_error(tmp_path):
    recs = [HEADER,
            {"type": "loop", "event": "start", "t": 1.0, "thread_id": 41, "loop": "uvloop",
             "thread_name": "MainThread"},
            {"type": "lag", "t": 1.2, "thread_id": 41, "n": 5, "p50_ms": 0.2, "max_ms": 0.4},
            {"type": "block", "t": 1.5, "thread_id": 41, "dur_ms": 50, "stack": [], "on_cpu": False},
            {"type": "lag", "t": 1.1, "thread_id": 41, "n": 5, "p50_ms": 0.1, "max_ms": 0.3}]
    path = tmp_path / "probe-41.jsonl"
    _write(path, recs, tail='{"type": "lag", "t": 1.3, "thr')  # killed mid-write
    header, records = read_probe_file(path)
    assert header == HEADER and len(records) == 4 and all(r["pid"] == 41 for r in records)
    by_type = probe_records(tmp_path)
    assert [r["t"] for r in by_type["lag"]] == [1.1, 1.2]  # sorted by time
    assert by_type["loop"][0]["loop"] == "uvloop" and len(by_type["block"]) == 1
    # the probe writes each record with one write(): only a kill tears one, the last
    with open(path, "r+") as f:
        lines = f.read().split("\n")
        lines.insert(3, "\x00\x00garbage")
        f.seek(0)
        f.write("\n".join(lines))
    with pytest.raises(ValueError, match="malformed line in the middle"):
        read_probe_file(path)


def test_a_second_header_after_exec_and_names_that_are_not_probe_files(tmp_path):
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
    assert [p.name for p in probe_paths(tmp_path)] == ["probe-41.jsonl"]
    assert probe_headers(tmp_path) == {41: HEADER}  # the first header describes the process
    by_type = probe_records(tmp_path)
    assert "?" not in by_type  # the second header is not a record
    assert [r["event"] for r in by_type["loop"]] == ["start", "stop", "stop"]
    assert [r["state"] for r in by_type["feature"]] == ["started", "stopped"]
    assert sum(r["dur_ms"] for r in by_type["gc"] + by_type["gcsum"]) == 19.0
    assert by_type["exit"][0]["t"] == 2.5 and by_type["future-record"][0]["pid"] == 41


def test_headers_of_several_processes(tmp_path):
    _write(tmp_path / "probe-5.jsonl", [{**HEADER, "pid": 5, "forked": False}])
    _write(tmp_path / "probe-6.jsonl", [{**HEADER, "pid": 6, "ppid": 5, "forked": True},
                                        {"type": "exit", "t": 1.0}])
    (tmp_path / "probe-7.jsonl").write_text("")  # just opened: no header yet
    headers = probe_headers(tmp_path)
    assert sorted(headers) == [5, 6] and headers[6]["ppid"] == 5 and headers[6]["forked"]
    assert [r["pid"] for r in probe_records(tmp_path)["exit"]] == [6]


@pytest.mark.parametrize("path, probe", [
    ("/site-packages/pinkclinic/bootstrap/pinkclinic_probe/_watch.py", True),
    ("/work/pinkclinic/bootstrap/sitecustomize.py", True),
    ("C:\\pinkclinic\\bootstrap\\pinkclinic_probe\\gc.py", True),
    ("/opt/pinkclinic_probe/_core.py", True),
    ("/srv/app/pinkclinic/analysis/loop.py", False),
    ("/srv/app/my_pinkclinic_probe_test.py", False),
    ("/usr/lib/python3.11/threading.py", False),
    ("", False),
])
def test_the_probes_own_files(path, probe):
    assert is_probe_file(path) is probe


def test_the_thread_prefix_is_the_probes_own():
    """The probe cannot import pinkclinic: its constant is read from its source."""
    tree = ast.parse((ROOT / "pinkclinic/bootstrap/pinkclinic_probe/_core.py").read_text())
    values = [n.value.value for n in tree.body if isinstance(n, ast.Assign)
              and any(getattr(t, "id", "") == "THREAD_PREFIX" for t in n.targets)]
    assert values == [THREAD_PREFIX]


def test_v3_waits_records_get_their_stacks_back_from_the_streams_defs(tmp_path):
    a, b = [["handler", "/app/a.py", 3]], [["handler", "/app/a.py", 3], ["get", "/app/b.py", 9]]
    leaf = {"kind": "sleep", "resource": ""}
    _write(tmp_path / "probe-41.jsonl", [
        HEADER,
        {"type": "waits", "v": 3, "t": 1.0, "other": 0, "defs": [[1, a], [2, b]],
         "stacks": [[1, 2.0], [2, 1.0]], "leaves": [leaf, leaf]},
        {"type": "waits", "v": 3, "t": 2.0, "other": 0.5,  # id 7's record was lost
         "stacks": [[2, 3.0], [7, 4.0]], "leaves": [leaf, {"kind": "lock"}]},
        {"type": "waits", "v": 2, "t": 3.0, "other": 0, "stacks": [[a, 1]], "leaves": [leaf]},
    ])
    first, second, old = read_probe_file(tmp_path / "probe-41.jsonl")[1]
    assert first["stacks"] == [[a, 2.0], [b, 1.0]] and "defs" not in first
    assert second["stacks"] == [[b, 3.0]] and second["leaves"] == [leaf]
    assert second["other"] == 4.5
    assert second["stacks"][0][0] is first["stacks"][1][0]  # one list per stack id
    assert old["stacks"] == [[a, 1]]
