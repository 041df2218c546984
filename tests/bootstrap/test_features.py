"""GC, threads, fork, kill -9, pyinstrument and memray, each in a real target process."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sys
import time

import pytest

from pinkclinic.jsonio import read_jsonl, read_jsonl_header
from pinkclinic.profile import ProfileBuilder, read_pyinstrument
from tests.bootstrap.probe_env import (
    TARGETS,
    app_stalls,
    get,
    innermost,
    probe_env,
    processes,
    python,
    records,
    run,
    wait_for,
)
from tests.helpers import free_port, server


def test_gc_pauses_carry_the_allocating_stack(tmp_path):
    out = run([sys.executable, str(TARGETS / "gc_target.py")], probe_env(tmp_path, ["gc"]))
    assert out.returncode == 0, out.stderr
    proc = processes(tmp_path)[int(json.loads(
        (next(tmp_path.glob("probe-*.jsonl"))).read_text().splitlines()[0])["pid"])]
    gcs = proc.of("gc")
    long_ones = [r for r in gcs if r["gen"] == 2]
    assert long_ones, gcs
    for r in long_ones:
        assert r["dur_ms"] >= 5 and r["thread_id"] == proc.pid
        assert innermost(r["stack"]) == "allocate", r["stack"]
    sums = proc.of("gcsum")
    young = [r for r in sums if r["gen"] == 0]
    assert sum(r["n"] for r in young) > 10 and all(r["dur_ms"] > 0 for r in young), sums
    # every interval's first pause has its stack: the last interval, cut short by the
    # exit, often lasts a few ms only (a CI run on a busy machine: 3 ms, 23 pauses)
    assert all(r["stacks"] for r in sums), sums
    assert any(innermost(s["stack"]) == "allocate" for r in young for s in r["stacks"]), sums
    assert all(r["pid"] == proc.pid for r in proc.records)  # the reader names the process
    assert sum(r["dur_ms"] for r in proc.of("gc", "gcsum")) >= sum(r["dur_ms"] for r in long_ones)
    assert proc.exit_t is not None and all(r["t"] <= proc.exit_t for r in gcs)


def test_threaded_server(tmp_path):
    port = free_port()
    cmd = [sys.executable, str(TARGETS / "threaded_server.py"), str(port)]
    with server(cmd, port, env=probe_env(tmp_path)) as proc:
        get(port, "/slow")
        samples = wait_for(lambda: records(tmp_path, proc.pid, "threads"))
        listen = records(tmp_path, proc.pid, "listen")
    assert max(s["n"] for s in samples) >= 2  # the main thread and a handler thread
    assert all("MainThread" in s["names"] for s in samples)
    assert not any(n.startswith("pinkclinic-probe") for s in samples for n in s["names"])
    assert all(s["probe_n"] >= 1 and s["os_n"] >= s["n"] for s in samples)
    assert [(r["host"], r["port"], r["via"]) for r in listen] == [("127.0.0.1", port, "listen")]
    assert not records(tmp_path, proc.pid, "loop")  # no event loop in this server


def test_a_forked_child_gets_its_own_file_and_watcher(tmp_path):
    out = run([sys.executable, str(TARGETS / "fork_target.py")], probe_env(tmp_path))
    assert out.returncode == 0, out.stderr
    child_pid = int(out.stdout)
    procs = processes(tmp_path)
    assert len(procs) == 2 and child_pid in procs
    child = procs[child_pid]
    parent_pid = child.ppid
    assert parent_pid in procs and child.header["forked"] is True
    assert procs[parent_pid].header["forked"] is False
    named = [innermost(b["stack"]) for b in app_stalls(child.of("block"))]
    assert len(named) == 2 and named[0] in (None, "child_blocking_call"), named
    assert named[1] == "child_blocking_call", named
    assert not procs[parent_pid].ran_a_loop  # the parent never ran a loop


def test_kill_9_leaves_every_complete_record_readable(tmp_path):
    port = free_port()
    cmd = [sys.executable, str(TARGETS / "aio_server.py"), str(port)]
    with server(cmd, port, env=probe_env(tmp_path)) as proc:
        get(port, "/sleep")  # a calm loop's first stall may end unseen, with no stack
        time.sleep(0.25)
        get(port, "/sleep")  # the watcher is on alert: this one is caught in progress
        wait_for(lambda: len(records(tmp_path, proc.pid, "block")) >= 2, timeout=5)
        time.sleep(0.3)
        killed = time.time()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)
    path = tmp_path / f"probe-{proc.pid}.jsonl"
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    assert all(json.loads(line) for line in raw.splitlines())  # no torn line at all
    p = processes(tmp_path)[proc.pid]  # pinkclinic's reader takes the whole file
    assert len(p.records) == len(raw.splitlines()) - 1  # every line but the header
    assert p.exit_t is None  # killed: no exit record
    # lag records, made on the loop thread and written by the watcher, lose ~1 s at most
    assert max(r["t"] for r in p.of("lag")) >= killed - 1.5, p.of("lag")[-3:]
    named = [innermost(b["stack"]) for b in app_stalls(p.of("block"))]
    assert len(named) == 2 and named[0] in (None, "sleepy") and named[1] == "sleepy", named


def test_pyinstrument_segments(tmp_path):
    out = run([sys.executable, str(TARGETS / "busy_target.py")],
              probe_env(tmp_path, ["pyinstrument"]))
    assert out.returncode == 0 and out.stdout.strip() == "done", out.stderr
    (path,) = tmp_path.glob("pyinstrument-*.jsonl")
    pid = int(path.stem.split("-")[1])
    header, segments = read_jsonl_header(path), list(read_jsonl(path))  # pinkclinic's reader
    assert header["stream"] == "pyinstrument" and header["async_mode"] == "enabled"
    assert header["pid"] == pid and header["interval_s"] == 0.001
    assert path.read_bytes().endswith(b"\n")  # no torn last line
    assert len(segments) >= 2 and all("stacks" in s for s in segments)
    for a, b in itertools.pairwise(segments):
        assert a["t1"] == b["t0"]
    stacks = [s for seg in segments for s in seg["stacks"]]
    busy = [s for s in stacks if any(f[0] == "busy_compute" for f in s["frames"])]
    assert busy and all(s["kind"] == "cpu" for s in busy)
    worker = next(f for f in busy[0]["frames"] if f[0] == "worker")
    assert worker[1].endswith("busy_target.py") and worker[2] > 0
    assert sum(s["seconds"] for s in busy) > 0.5  # 2 x 25 x 40 ms of computation
    b = ProfileBuilder(unit="seconds")
    assert read_pyinstrument(path, b) == pytest.approx(sum(s["seconds"] for s in stacks))
    assert any(f.function == "busy_compute" for f in b.build().frames)
    feature = processes(tmp_path)[pid].features["pyinstrument"]
    assert feature["file"] == f"pyinstrument-{pid}.jsonl"


def test_memray_capture(tmp_path):
    memray = pytest.importorskip("memray")
    out = run([sys.executable, str(TARGETS / "busy_target.py")], probe_env(tmp_path, ["memray"]))
    assert out.returncode == 0, out.stderr
    (path,) = tmp_path.glob("memray-*.bin")
    pid = int(path.stem.split("-")[1])
    reader = memray.FileReader(str(path))
    assert reader.metadata.pid == pid
    assert reader.metadata.total_allocations > 0
    sizes = [r.size for r in reader.get_high_watermark_allocation_records(merge_threads=True)
             if any(f[0] == "worker" for f in r.stack_trace())]
    assert sum(sizes) >= 25 * 64 * 1024  # the bytearrays a worker keeps
    assert processes(tmp_path)[pid].features["memray"]["file"] == path.name


def test_missing_profilers_are_error_records(tmp_path):
    exe = python("3.10")
    if exe is None:
        pytest.skip("no Python 3.10 under pyenv")
    out = run([exe, "-c", "import os; print(os.getpid())"],
              probe_env(tmp_path, ["pyinstrument", "memray", "threads"]))
    assert out.returncode == 0 and out.stderr == ""
    proc = processes(tmp_path)[int(out.stdout)]
    errors = proc.of("error")
    assert sorted(e["feature"] for e in errors) == ["memray", "pyinstrument"]
    assert all("not importable" in e["message"] for e in errors)
    assert list(proc.features) == ["threads"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"probe-{proc.pid}.jsonl"]
