"""Event-loop lag and blocked-loop stacks, in real servers (asyncio, uvloop, uvicorn)."""

from __future__ import annotations

import sys
import time

import pytest

from tests.bootstrap.probe_env import TARGETS, get, innermost, probe_env, python, records, wait_for
from tests.helpers import free_port, server


def _blocks_naming(rec_dir, pid, func, n):
    """Wait until ``n`` block records name ``func``; return all of those found."""
    def found():
        hits = [b for b in records(rec_dir, pid, "block") if innermost(b["stack"]) == func]
        return hits if len(hits) >= n else None
    return wait_for(found, timeout=5) or [
        b for b in records(rec_dir, pid, "block") if innermost(b["stack"]) == func]


def _three_sleeps(port):
    for _ in range(3):
        assert get(port, "/sleep").endswith(b"ok")
        time.sleep(0.15)


def _check_sleep_blocks(rec_dir, pid):
    """Three 50 ms sleeps 0.2 s apart: three ``block`` records. The first may come
    without a stack (a calm loop is looked at once a window: the stall can end unseen);
    the first lag of ``block_ms / 2`` puts the watcher on alert, so the next two are
    caught in progress, with the sleeping call on top."""
    named = _blocks_naming(rec_dir, pid, "sleepy", 2)
    time.sleep(0.3)  # nothing else may show up afterwards
    blocks = records(rec_dir, pid, "block")
    assert len(blocks) == 3, blocks
    assert all(b["dur_ms"] >= 30 for b in blocks), blocks
    named = [b for b in blocks if b["stack"]]
    assert len(named) >= 2 and blocks[1:] == named[-2:], blocks
    for b in named:
        assert innermost(b["stack"]) == "sleepy", b
        assert b["on_cpu"] is False, b
        assert b["stack"][-1][1].endswith("aio_server.py")
    if not blocks[0]["stack"]:  # unseen: what held the loop is not known
        assert blocks[0]["on_cpu"] is None, blocks[0]
    return named


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_three_sleeps_give_three_off_cpu_blocks(tmp_path, loop):
    port = free_port()
    cmd = [sys.executable, str(TARGETS / "aio_server.py"), str(port), loop]
    with server(cmd, port, env=probe_env(tmp_path)) as proc:
        _three_sleeps(port)
        _check_sleep_blocks(tmp_path, proc.pid)
        starts = records(tmp_path, proc.pid, "loop")
        assert [(s["event"], s["loop"]) for s in starts] == [("start", loop)]
        assert starts[0]["thread_id"] == proc.pid  # the main thread's OS tid
        lag = wait_for(lambda: records(tmp_path, proc.pid, "lag"))
        assert lag and all(r["n"] >= 1 and r["max_ms"] >= r["p50_ms"] >= 0 for r in lag)
        listen = wait_for(lambda: records(tmp_path, proc.pid, "listen"))
        assert [(r["host"], r["port"]) for r in listen] == [("127.0.0.1", port)]
        # uvloop listens inside libuv: only the /proc scan can see it
        assert listen[0]["via"] == ("scan" if loop == "uvloop" else "listen")
        assert wait_for(lambda: records(tmp_path, proc.pid, "tasks"))


def test_cpu_bound_handler_is_on_cpu(tmp_path):
    port = free_port()
    cmd = [sys.executable, str(TARGETS / "aio_server.py"), str(port)]
    with server(cmd, port, env=probe_env(tmp_path, ["loop"])) as proc:
        get(port, "/cpu")  # the first stall of a calm loop may end unseen, and alerts
        time.sleep(0.25)
        get(port, "/cpu")
        blocks = _blocks_naming(tmp_path, proc.pid, "spin", 1)
        every = records(tmp_path, proc.pid, "block")
    assert len(every) == 2 and 1 <= len(blocks) <= 2 and every[1] in blocks, every
    assert all(b["on_cpu"] is True and b["cpu_ms"] > 0 for b in blocks), blocks


def test_starlette_on_uvicorn(tmp_path):
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "--app-dir", str(TARGETS), "--port", str(port),
           "--log-level", "warning", "starlette_app:app"]
    with server(cmd, port, env=probe_env(tmp_path)) as proc:
        for _ in range(4):  # the first may end unseen (see _check_sleep_blocks)
            assert get(port, "/sleep").endswith(b"report")
            time.sleep(0.15)

        def blocks():
            hits = [b for b in records(tmp_path, proc.pid, "block")
                    if innermost(b["stack"]) == "fetch_report_sync"]
            return hits if len(hits) >= 3 else None
        found = wait_for(blocks, timeout=5)
        assert found and all(b["on_cpu"] is False for b in found), found
        loops = records(tmp_path, proc.pid, "loop")
        assert loops[0]["loop"] == "uvloop"  # uvicorn's --loop auto picks uvloop
        listen = wait_for(lambda: records(tmp_path, proc.pid, "listen"))
        assert ("127.0.0.1", port) in [(r["host"], r["port"]) for r in listen]


@pytest.mark.parametrize("version", ["3.8", "3.10", "3.12", "3.13"])
def test_other_pythons(tmp_path, version):
    exe = python(version)
    if exe is None:
        pytest.skip(f"no Python {version} under pyenv")
    port = free_port()
    cmd = [exe, str(TARGETS / "aio_server.py"), str(port)]
    with server(cmd, port, env=probe_env(tmp_path)) as proc:
        _three_sleeps(port)
        _check_sleep_blocks(tmp_path, proc.pid)
        assert wait_for(lambda: records(tmp_path, proc.pid, "threads"))
        assert wait_for(lambda: records(tmp_path, proc.pid, "gcsum"), timeout=3)
        assert records(tmp_path, proc.pid, "listen")[0]["port"] == port
    assert not records(tmp_path, proc.pid, "error")
