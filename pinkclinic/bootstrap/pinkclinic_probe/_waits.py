"""Where asyncio tasks are suspended, and on what: the ``waits`` records.

An idle-but-slow asyncio server waits inside awaits (a slow backend, a semaphore in
front of a small pool) that no sampling profiler sees: the loop thread sits in its
selector. This runs on the loop thread, inside one of the watcher's ticks, so the
tasks cannot change under it. For each live task:

* its chain of awaits (``cr_await``, ``gi_yieldfrom``: coroutines, generators, async
  generators and ``async with``), outermost first;
* its *logical* stack: a task awaited by another (``await task``, ``gather``) is
  prefixed with its awaiter's logical stack, so a gathered child reads handler ->
  service -> client; the awaiter itself is not counted (its children are, each
  weighing its share of it);
* its leaf (``_leaf.classify``): kind, resource, detail.

Equal (logical stack, kind, resource) are counted together. At most ``max_tasks``
tasks are walked per snapshot (a uniform sample, each weighing ``n / walked``), so a
snapshot of 100,000 tasks stays bounded; chains are cut at ``MAX_CHAIN`` frames and
task links at ``MAX_LINKS``, so cycles end.
"""
import random

from . import _leaf

MAX_CHAIN = 64
MAX_LINKS = 8  # awaiting tasks followed up a logical stack
MAX_STACKS = 50  # distinct (stack, leaf) groups kept per snapshot, commonest first


def _func(code):
    return getattr(code, "co_qualname", None) or code.co_name


def chain(task):
    """The frames of a task's chain of awaits, outermost first."""
    out = []
    try:
        obj = task.get_coro()
    except Exception:
        return out
    while obj is not None and len(out) < MAX_CHAIN:
        frame = getattr(obj, "cr_frame", None) or getattr(obj, "gi_frame", None) \
            or getattr(obj, "ag_frame", None)
        if frame is not None:
            out.append(frame)
        obj = (getattr(obj, "cr_await", None) or getattr(obj, "gi_yieldfrom", None)
               or getattr(obj, "ag_await", None))
    return out


def _awaiters(tasks):
    """{child task: (awaiting task, number of children it awaits)} from ``_fut_waiter``."""
    parent = {}
    for t in tasks:
        fut = getattr(t, "_fut_waiter", None)
        if fut is None:
            continue
        children = getattr(fut, "_children", None)  # gather's _GatheringFuture
        if children is None and hasattr(fut, "get_coro"):
            children = (fut,)
        for c in children or ():
            if c is not t:
                parent[c] = (t, len(children))
    return parent


def snapshot(tasks, max_tasks):
    """({(key, kind, resource): [weight, detail]}, live, walked) for the unfinished tasks."""
    live = [t for t in tasks if not t.done()]
    parent = _awaiters(live)
    walk = live if len(live) <= max_tasks else random.sample(live, max_tasks)
    weight = len(live) / len(walk) if walk else 0.0
    keys, cache, groups = {}, {}, {}

    def key_of(task):
        if task not in keys:
            keys[task] = tuple((f.f_code, f.f_lineno or 0) for f in chain(task))
        return keys[task]

    for task in walk:
        fut = getattr(task, "_fut_waiter", None)
        if fut is not None and (hasattr(fut, "get_coro") or getattr(fut, "_children", None)):
            continue  # it awaits other tasks: they carry its time
        frames = chain(task)
        keys[task] = own = tuple((f.f_code, f.f_lineno or 0) for f in frames)
        share, prefix, t, seen = weight, (), task, {task}
        for _ in range(MAX_LINKS):
            up = parent.get(t)
            if up is None or up[0] in seen:
                break
            t = up[0]
            seen.add(t)
            share /= max(1, up[1])
            prefix = key_of(t) + prefix
        kind, resource, detail = _leaf.classify(frames, fut, cache)
        g = groups.setdefault((prefix + own, kind, resource), [0.0, None])
        g[0] += share
        if detail is not None:
            g[1] = detail
    return groups, len(live), len(walk)


def record(snap, thread_id, dt, dur):
    """The ``waits`` record of one snapshot; ``dt`` is the time it stands for."""
    groups, live, walked = snap
    top = sorted(groups.items(), key=lambda kv: -kv[1][0])
    kept = [kv for kv in top[:MAX_STACKS] if kv[0][0]]
    leaves = []
    for (_key, kind, resource), (_n, detail) in kept:
        leaf = {"kind": kind, "resource": resource}
        if detail:
            leaf.update(detail)
        leaves.append(leaf)
    return {"type": "waits", "v": 2, "thread_id": thread_id, "n": live, "walked": walked,
            "dt_ms": round(dt * 1000, 3), "dur_ms": round(dur * 1000, 3),
            "other": round(sum(n for _k, (n, _d) in top[MAX_STACKS:]), 3),
            "stacks": [[[[_func(c), c.co_filename, ln] for c, ln in key], round(n, 3)]
                       for (key, _k, _r), (n, _d) in kept],
            "leaves": leaves}
