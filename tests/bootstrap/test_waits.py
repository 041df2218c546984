"""``waits`` records: where suspended asyncio tasks wait (the io-wait culprit)."""

from __future__ import annotations

import sys
import threading

from tests.bootstrap.probe_env import TARGETS, get, innermost, probe_env, records, wait_for
from tests.helpers import free_port, server


def test_tasks_queued_on_a_semaphore_are_seen_waiting_in_the_users_coroutine(tmp_path):
    port = free_port()
    env = probe_env(tmp_path, ["loop", "tasks"], tasks_ms=100)
    with server([sys.executable, str(TARGETS / "waits_server.py"), str(port)], port, env=env) as srv:
        clients = [threading.Thread(target=get, args=(port,)) for _ in range(6)]
        for c in clients:
            c.start()

        def queued():
            best = 0
            for r in records(tmp_path, srv.pid, "waits"):
                best = max(best, sum(n for stack, n in r["stacks"]
                                     if innermost(stack) == "fetch_from_backend"))
            return best >= 3

        assert wait_for(queued, timeout=10), records(tmp_path, srv.pid, "waits")[-3:]
        for c in clients:
            c.join(10)
    rec = next(r for r in records(tmp_path, srv.pid, "waits")
               if any(innermost(st) == "fetch_from_backend" for st, _ in r["stacks"]))
    stack = next(st for st, _ in rec["stacks"] if innermost(st) == "fetch_from_backend")
    funcs = [f[0] for f in stack]
    assert funcs.index("handle") < funcs.index("fetch_from_backend")  # outermost first
    assert rec["n"] >= 1 and isinstance(rec["thread_id"], int)
