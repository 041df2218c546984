"""Multi-process servers: every worker writes its own probe file.

gunicorn forks its workers (the probe re-arms in each child through
``os.register_at_fork``); uvicorn ``--workers`` spawns fresh interpreters, which get the
probe from the inherited environment. Either way a worker inherits its listener without
calling ``listen()``, so only the /proc scan can see it.
"""

from __future__ import annotations

import sys
import time

from tests.bootstrap.probe_env import TARGETS, get, innermost, probe_env, processes, wait_for
from tests.helpers import free_port, server


def _workers(rec_dir, root_pid, n):
    def found():
        procs = processes(rec_dir)
        workers = {pid: p for pid, p in procs.items()
                   if p.ppid == root_pid and any(r["via"] == "scan" for r in p.of("listen"))}
        return (procs, workers) if len(workers) >= n else None
    return wait_for(found, timeout=10) or (processes(rec_dir), {})


def test_gunicorn_forked_workers(tmp_path):
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
           "--chdir", str(TARGETS), "wsgi_app:app"]
    with server(cmd, port, env=probe_env(tmp_path)) as proc:
        get(port, "/sleep")
        procs, workers = _workers(tmp_path, proc.pid, 2)
    assert len(workers) == 2, {pid: (p.ppid, p.of("listen")) for pid, p in procs.items()}
    master = procs[proc.pid]
    assert not master.header["forked"]
    assert ("inet", "127.0.0.1", port) in [(r["family"], r["host"], r["port"])
                                           for r in master.of("listen") if r["via"] == "listen"]
    for w in workers.values():
        assert w.header["forked"] is True
        assert [(r["host"], r["port"]) for r in w.of("listen")] == [("127.0.0.1", port)]
        assert "threads" in w.features  # re-announced in the child's own file


def test_uvicorn_spawned_workers(tmp_path):
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "--workers", "2", "--port", str(port),
           "--app-dir", str(TARGETS), "--log-level", "warning", "starlette_app:app"]
    with server(cmd, port, env=probe_env(tmp_path)) as proc:
        for _ in range(8):
            get(port, "/sleep")
            time.sleep(0.15)
        procs, workers = _workers(tmp_path, proc.pid, 2)

        def blocked():
            hits = [b for p in processes(tmp_path).values() for b in p.of("block")
                    if innermost(b["stack"]) == "fetch_report_sync"]
            return hits if len(hits) >= 5 else None
        named = wait_for(blocked, timeout=5)
    assert len(workers) == 2, {pid: (p.ppid, p.of("listen")) for pid, p in procs.items()}
    for w in workers.values():
        assert not w.header["forked"]  # a fresh interpreter, not a fork
        assert [r["loop"] for r in w.of("loop") if r["event"] == "start"] == ["uvloop"]
    # Eight 50 ms stalls, shared by the two workers. Each worker's first stall may end
    # unseen (a calm loop is looked at once a window: a block record with no stack, see
    # test_loop._check_sleep_blocks), so at least six are caught with the call on top;
    # one more may be missed when another process holds the core the watcher wakes on.
    blocks = [b for p in processes(tmp_path).values() for b in p.of("block")]
    assert named and len(named) >= 5 and all(b["on_cpu"] is False for b in named), blocks
    assert len(blocks) >= 8, blocks
