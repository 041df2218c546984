"""``waits`` records: where suspended asyncio tasks wait (the io-wait culprit)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from tests.bootstrap.probe_env import (
    BOOTSTRAP,
    TARGETS,
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


def leaves(tmp_path, pid):
    """{kind: [(leaf, stack function names, count)]} over every waits record."""
    out = {}
    for r in records(tmp_path, pid, "waits"):
        for (stack, n), leaf in zip(r["stacks"], r["leaves"]):
            out.setdefault(leaf["kind"], []).append((leaf, [f[0] for f in stack], n))
    return out


def test_each_task_s_leaf_says_what_it_waits_on(tmp_path):
    env = probe_env(tmp_path, ["loop", "tasks"], waits_ms=50)
    proc = run([sys.executable, str(TARGETS / "waits_kinds.py")], env)
    assert proc.returncode == 0, proc.stderr
    pid = next(iter(processes(tmp_path)))
    kinds = leaves(tmp_path, pid)
    assert all(r.get("v") == 3 and r["dt_ms"] > 0 for r in records(tmp_path, pid, "waits"))
    # on the wire, each stack is written in full once (``defs``), before any use of its id
    defined, used = set(), 0
    for line in (tmp_path / f"probe-{pid}.jsonl").read_text().splitlines():
        raw = json.loads(line)
        if raw.get("type") != "waits":
            continue
        ids = [sid for sid, _st in raw.get("defs", [])]
        assert not defined & set(ids), "a stack defined twice"
        defined.update(ids)
        assert {sid for sid, _n in raw["stacks"]} <= defined
        used += len(raw["stacks"])
    assert used > len(defined) > 0

    lock = next(lf for lf, funcs, n in kinds["lock"] if "hold_lock" in funcs)
    assert lock["resource"].startswith("asyncio.Lock@") and lock["locked"] and lock["waiters"] == 2
    sem = [(lf, funcs, n) for lf, funcs, n in kinds["semaphore"]]
    assert any(lf["value"] == 0 and lf["waiters"] >= 2 for lf, _, _ in sem), sem
    # a gathered child's stack starts with its awaiter's: fan_out -> use_pool -> acquire
    assert any(funcs[:2] == ["fan_out", "use_pool"] for _, funcs, _ in sem), sem
    sock = [(lf, funcs) for lf, funcs, _ in kinds["socket"] if "call_upstream" in funcs]
    assert sock and all(lf["resource"].startswith("127.0.0.1:") for lf, _ in sock), sock
    assert any(funcs[0] == "fan_out" for _, funcs in sock)  # its share of the gather
    ex = next(lf for lf, funcs, n in kinds["executor"] if "in_executor" in funcs)
    assert ex["size"] == 2 and ex["busy"] == 2 and ex["queued"] == 3, ex
    assert any(lf["maxsize"] == 0 and lf["waiters"] == 1 for lf, _, _ in kinds["queue"])
    assert any(funcs[-2:] == ["use_pool", "sleep"] for _, funcs, _ in kinds["sleep"])
    # the awaiting task itself is not counted: its children carry its time
    assert not any(funcs == ["main"] for k in kinds.values() for _, funcs, _ in k if "gather" in funcs)



GROUPS = {"by_wait": ["w_sleep", "w_queue", "w_event"], "by_as_completed": ["ac_sleep", "ac_event"],
          "by_wait_for": ["wf_sleep"], "by_taskgroup": ["tg_sleep", "tg_event"]}


@pytest.mark.parametrize("version", [None, "3.8", "3.10", "3.12", "3.13"])
def test_children_awaited_as_a_group_carry_their_parent_s_stack_and_time(tmp_path, version):
    """TaskGroup, wait, as_completed and wait_for: while the groups are all there, each
    child's logical stack starts with its handler's frames, one group's children weigh
    the handler's single share together (each handler is a task of its own: 1), and the
    handler is never a site of its own."""
    exe = python(version)
    if exe is None:
        pytest.skip(f"no Python {version} under pyenv")
    has_tg = subprocess.run([exe, "-c", "import asyncio; print(hasattr(asyncio, 'TaskGroup'))"],
                            capture_output=True, text=True, check=True).stdout.strip() == "True"
    groups = {p: c for p, c in GROUPS.items() if has_tg or p != "by_taskgroup"}
    env = probe_env(tmp_path, ["loop", "tasks"], waits_ms=50)
    proc = run([exe, str(TARGETS / "waits_groups.py")], env)
    assert proc.returncode == 0, proc.stderr
    pid = next(iter(processes(tmp_path)))
    recs = records(tmp_path, pid, "waits")
    children = {c: p for p, cs in groups.items() for c in cs}
    steady = [r for r in recs if set(children) <= {innermost(st) for st, _n in r["stacks"]}]
    assert steady, [[innermost(st) for st, _n in r["stacks"]] for r in recs]
    for r in steady:
        funcs = [([f[0] for f in st], n) for st, n in r["stacks"]]
        assert not any(innermost(st) in groups for st, _n in r["stacks"]), funcs  # no parent alone
        weights = dict.fromkeys(groups, 0.0)
        for (st, n), (names, _n) in zip(r["stacks"], funcs):
            parent = children.get(innermost(st))
            if parent is not None:
                assert names[0] == parent, (parent, names)  # the handler's frames first
                weights[parent] += n
        assert all(abs(w - 1.0) < 0.01 for w in weights.values()), weights
    assert not records(tmp_path, pid, "error")


def test_a_look_alike_of_a_group_in_user_code_is_not_linked():
    """Callbacks shaped like asyncio.wait's and wait_for's, in the user's code: the parent
    is not suspended in asyncio's ``_wait``/``wait_for``, so nothing is linked and the
    parent keeps its own time, rather than lending its stack to a task it does not await."""
    import asyncio
    import functools

    _waits = _waits_module()

    async def child():
        await asyncio.sleep(10)

    def _release_waiter(waiter, *args):
        pass

    async def parent(kind):
        waiter = asyncio.get_running_loop().create_future()
        task = asyncio.ensure_future(child())

        def _on_completion(f):
            return waiter

        task.add_done_callback(_on_completion if kind == "wait" else
                               functools.partial(_release_waiter, waiter))
        await waiter

    async def main():
        parents = [asyncio.ensure_future(parent(kind)) for kind in ("wait", "wait_for")]
        await asyncio.sleep(0.01)
        others = asyncio.all_tasks() - {asyncio.current_task()}
        assert set(parents) < others
        found = _waits.snapshot(others, 100)[0]
        for t in others:
            t.cancel()
        return found

    stacks = {tuple(c.co_name for c, _ in key): g[0] for (key, _k, _r), g in asyncio.run(main()).items()}
    assert stacks[("parent",)] == 2 and stacks[("child", "sleep")] == 2, stacks


def test_a_group_of_100000_children_is_counted_on_a_sample():
    # a awaits gather(100,000 tasks): a snapshot of 500 of them finds their group's size
    # without counting it, and the children walked weigh a's single share between them
    a = _FakeTask()
    kids = [_FakeTask() for _ in range(100000)]
    a._fut_waiter = _FakeGather(kids, a)
    for k in kids:
        k._fut_waiter = object()
    groups, live, walked = _waits_module().snapshot([a, *kids], 500)
    assert (live, walked) == (100001, 500)
    assert abs(sum(g[0] for g in groups.values()) - 1.0) < 0.01, groups



def test_a_real_group_larger_than_its_count_is_sampled_and_still_sums_to_its_parent():
    # asyncio.wait and a TaskGroup of 1,000 children each (beyond _groups.MAX_COUNT): the
    # live count is taken on a sample of the set, and the children weigh 1 together
    import asyncio

    _waits = _waits_module()

    async def child(ev):
        await ev.wait()

    async def by_wait(ev):
        await asyncio.wait([asyncio.ensure_future(child(ev)) for _ in range(1000)])

    async def by_taskgroup(ev):
        async with asyncio.TaskGroup() as tg:
            for _ in range(1000):
                tg.create_task(child(ev))

    async def main():
        ev = asyncio.Event()
        parents = [asyncio.ensure_future(by_wait(ev)), asyncio.ensure_future(by_taskgroup(ev))]
        await asyncio.sleep(0.05)
        groups = _waits.snapshot(asyncio.all_tasks() - {asyncio.current_task()}, 5000)[0]
        ev.set()
        await asyncio.gather(*parents)
        return groups

    weights: dict = {}
    for (key, _kind, _res), (w, _d) in asyncio.run(main()).items():
        names = tuple(c.co_name for c, _ in key)
        weights[names[0], names[-2]] = weights.get((names[0], names[-2]), 0.0) + w
    assert weights.keys() == {("by_wait", "child"), ("by_taskgroup", "child")}, weights
    assert all(abs(w - 1.0) < 1e-6 for w in weights.values()), weights


def test_threads_are_snapshotted_often_while_the_gil_is_busy(tmp_path):
    """Three pure-Python threads hold the GIL: a snapshot waits for it at each switch and
    can take hundreds of ms of wall time, yet only about 1 ms of the sampler's CPU. The rate
    is budgeted on that CPU time: a wall-time budget (cost / 1.5%) stretched the period to
    seconds, leaving 1 to 3 snapshots in 4 s (a gthread worker's lock-contention run saw
    4 in its load window, one standing for 3.5 s)."""
    env = probe_env(tmp_path, ["loop", "tasks"], waits_ms=50)
    proc = run([sys.executable, str(TARGETS / "gil_busy_threads.py")], env)
    assert proc.returncode == 0, proc.stderr
    pid = next(iter(processes(tmp_path)))
    recs = [r for r in records(tmp_path, pid, "waits") if r.get("source") == "threads"]
    assert len(recs) >= 10, [(r["dt_ms"], r["dur_ms"]) for r in recs]  # 80 at 50 ms; 28 to 45 seen


class _FakeTask:
    """What the snapshot reads of a task: done(), get_coro(), _fut_waiter, _callbacks."""
    def __init__(self):
        self._fut_waiter = None
        self._callbacks = []

    def done(self):
        return False

    def get_coro(self):
        return None

    def task_wakeup(self, fut):  # bound: its __self__ is the awaiting task
        pass


class _FakeGather:
    def __init__(self, children, awaited_by):
        self._children = children
        self._callbacks = [(awaited_by.task_wakeup, None)]
        outer = self

        def _done_callback(fut):
            return outer

        for c in children:
            c._callbacks.append((_done_callback, None))


def _waits_module():
    sys.path.insert(0, str(BOOTSTRAP))
    try:
        from pinkclinic_probe import _waits
    finally:
        sys.path.remove(str(BOOTSTRAP))
    return _waits


def test_a_snapshot_is_bounded_by_its_sample():
    import asyncio

    _waits = _waits_module()

    async def main():
        done = asyncio.Event()
        tasks = [asyncio.ensure_future(done.wait()) for _ in range(5000)]
        await asyncio.sleep(0.01)
        groups, live, walked = _waits.snapshot(asyncio.all_tasks(), 500)
        assert live >= 5000 and walked == 500
        assert abs(sum(g[0] for g in groups.values()) - live) < 0.05 * live  # each weighs n/walked
        done.set()
        await asyncio.gather(*tasks)

    asyncio.run(main())


def test_a_cycle_of_awaiting_tasks_ends():
    # a awaits gather(b, c); b awaits a: c's logical stack climbs a -> b -> a and stops
    a, b, c = _FakeTask(), _FakeTask(), _FakeTask()
    a._fut_waiter, b._fut_waiter, c._fut_waiter = _FakeGather([b, c], a), a, object()
    a._callbacks.append((b.task_wakeup, None))
    groups, live, walked = _waits_module().snapshot([a, b, c], 10)
    assert (live, walked) == (3, 3)
    assert groups == {((), "other", "object"): [0.5, None]}  # a and b await tasks: not leaves


def test_each_thread_s_leaf_says_what_it_waits_on(tmp_path):
    env = probe_env(tmp_path, ["loop", "tasks"], waits_ms=50)
    proc = run([sys.executable, str(TARGETS / "thread_waits.py")], env)
    assert proc.returncode == 0, proc.stderr
    pid = next(iter(processes(tmp_path)))
    recs = [r for r in records(tmp_path, pid, "waits") if r.get("source") == "threads"]
    assert len(recs) >= 5
    seen = {}
    for r in recs:
        for (stack, n), leaf in zip(r["stacks"], r["leaves"]):
            seen.setdefault((leaf["kind"], innermost(stack)), []).append((leaf, n))
    assert max(n for _, n in seen[("lock", "wait_for_lock")]) == 3, sorted(seen)
    assert seen[("lock", "wait_for_lock")][0][0]["resource"] == "threading.Lock"
    assert ("sleep", "hold") in seen  # the holder sleeps: not a lock wait
    sock = seen[("socket", "read_upstream")][0][0]
    assert sock["resource"].startswith("127.0.0.1:"), sock
    assert ("queue", "take") in seen, sorted(seen)
    assert ("other", "<module>") in seen  # the main thread in Thread.join: not a lock
    assert not any(k == "lock" for k, f in seen if f != "wait_for_lock")  # no GIL wait as a lock


def test_a_shielded_call_is_the_awaiting_task_s_leaf_not_its_own_connection():
    # asyncpg's Pool.release awaits asyncio.shield(holder.release()): the request task
    # waits on the shield's outer future, the shielded task on the database's socket.
    # The request's leaf must be that socket, not a peer found higher up its own stack
    # (the connection it serves, here the "front" one).
    import asyncio

    _waits = _waits_module()

    class Backend:
        def __init__(self, reader):
            self._reader = reader

        async def release(self):
            return await self._reader.read(1)  # the backend never answers

    class Handler:
        def __init__(self, writer, backend):
            self._transport, self.backend = writer.transport, backend

        async def serve(self):
            return await asyncio.shield(self.backend.release())

    async def main():
        async def silent(reader, writer):
            await reader.read()
            writer.close()

        servers = [await asyncio.start_server(silent, "127.0.0.1", 0) for _ in range(2)]
        front_port, back_port = (s.sockets[0].getsockname()[1] for s in servers)
        _r, front = await asyncio.open_connection("127.0.0.1", front_port)
        back, back_w = await asyncio.open_connection("127.0.0.1", back_port)
        task = asyncio.ensure_future(Handler(front, Backend(back)).serve())
        await asyncio.sleep(0.05)
        groups, _live, _walked = _waits.snapshot([task, *asyncio.all_tasks()], 100)
        task.cancel()
        for w in (front, back_w):
            w.close()
        for s in servers:
            s.close()
        return groups, back_port

    groups, back_port = asyncio.run(main())
    mine = {(tuple(c.co_name for c, _ in key), kind, res) for key, kind, res in groups
            if any(c.co_name == "serve" for c, _ in key)}
    assert mine == {(("serve", "release", "read", "_wait_for_data"), "socket",
                     f"127.0.0.1:{back_port}")}, mine


def test_snapshots_and_periodic_jobs_wake_the_probe_s_threads_rarely(tmp_path):
    """Each wake-up of a probe thread costs the process ~150 µs of CPU on a VM, whatever
    the thread then does. The loop's own beat takes the task snapshots (a watcher that
    posted them woke twice per snapshot: 80 to 200 times in these 2 s); the sampler runs
    its jobs together, and looks for threads to snapshot once a second while there are
    none (every 50 ms before: 40+ wake-ups). ``block_ms`` is high so that no stall puts
    the watcher on alert (60 wake-ups a second, by design). A wake-up that then waits
    for the GIL behind the busy loop counts a few times, hence the slack."""
    env = probe_env(tmp_path, ["loop", "gc", "tasks", "threads", "listen"], waits_ms=50,
                    block_ms=1000)
    proc = run([sys.executable, str(TARGETS / "busy_loop_wakeups.py")], env)
    assert proc.returncode == 0, proc.stderr
    wakes = json.loads(proc.stdout)
    pid = next(iter(processes(tmp_path)))
    snaps = [r for r in records(tmp_path, pid, "waits") if r.get("source") != "threads"]
    assert len(snaps) >= 10, len(snaps)  # the snapshots still come, on the loop thread
    assert any(leaf["kind"] == "event" for r in snaps for leaf in r["leaves"]), snaps[-1]
    assert set(wakes) == {"sampler", "loop"}, wakes
    assert wakes["loop"] <= 15 and wakes["sampler"] <= 20, wakes


def test_a_woken_task_is_ready_only_for_the_loop_s_lateness():
    """Two of four tasks have what they await done but have not run yet (their I/O came
    in this iteration): a snapshot taken ``lag`` late, standing for ``span`` seconds,
    counts ``lag / span`` of each as waiting for the loop and the rest as waiting on what
    it awaited; an on-time snapshot none, a snapshot as late as its span all of it."""
    import asyncio

    _waits = _waits_module()
    sys.path.insert(0, str(BOOTSTRAP))
    try:
        from pinkclinic_probe._watch import woken_ready
    finally:
        sys.path.remove(str(BOOTSTRAP))
    assert abs(woken_ready(0.005, 0.1) - 0.05) < 1e-9 and woken_ready(0.3, 0.1) == 1.0
    assert woken_ready(-0.001, 0.1) == 0.0 and woken_ready(0.01, 0.0) == 1.0

    def kinds(groups):
        out: dict = {}
        for (_stack, kind, _res), (w, _detail) in groups.items():
            out[kind] = round(out.get(kind, 0.0) + w, 6)
        return out

    async def main():
        loop = asyncio.get_running_loop()
        futs = [loop.create_future() for _ in range(4)]

        async def wait_on(f):
            return await f

        tasks = [asyncio.ensure_future(wait_on(f)) for f in futs]
        await asyncio.sleep(0)  # each task runs to its await
        for f in futs[:2]:
            f.set_result(None)  # woken, not yet run
        got = {w: kinds(_waits.snapshot(tasks, 10, woken=w)[0]) for w in (0.0, 0.25, 1.0)}
        await asyncio.gather(*tasks[:2])
        for f in futs[2:]:
            f.set_result(None)
        await asyncio.gather(*tasks[2:])
        return got

    got = asyncio.run(main())
    assert "ready" not in got[0.0] and sum(got[0.0].values()) == 4.0, got
    assert got[0.25]["ready"] == 0.5 and sum(got[0.25].values()) == 4.0, got
    assert got[1.0]["ready"] == 2.0 and sum(got[1.0].values()) == 4.0, got


def test_a_parent_whose_group_has_just_ended_is_woken_not_lost():
    """Its children are done, their callbacks not yet run (they finished in this loop
    iteration): no child carries the parent any more, so the parent counts as woken up,
    ``ready`` for the loop's lateness (here all of it), rather than vanishing or waiting
    on gather's or wait's internal future."""
    import asyncio

    _waits = _waits_module()

    async def main():
        loop = asyncio.get_running_loop()
        futs = [loop.create_future() for _ in range(4)]

        async def wait_on(f):
            return await f

        async def by_gather(group):
            await asyncio.gather(*group)

        kids = [asyncio.ensure_future(wait_on(f)) for f in futs]
        parents = [asyncio.ensure_future(by_gather(kids[:2])),
                   asyncio.ensure_future(asyncio.wait(kids[2:]))]
        await asyncio.sleep(0)  # each task runs to its await
        for f in futs:
            f.set_result(None)
        await asyncio.sleep(0)  # the children run and end; their done callbacks wait
        assert all(k.done() for k in kids) and not any(p.done() for p in parents)
        found = _waits.snapshot(parents, 10, woken=1.0)[0]
        await asyncio.gather(*parents)
        return found

    kinds = [(kind, g[0]) for (_key, kind, _res), g in asyncio.run(main()).items()]
    assert kinds == [("ready", 1.0)] * 2, kinds

