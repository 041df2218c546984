"""Where asyncio tasks are suspended, and on what: the ``waits`` records.

An idle-but-slow asyncio server waits inside awaits (a slow backend, a semaphore in
front of a small pool) that no sampling profiler sees: the loop thread sits in its
selector. This runs on the loop thread, inside one of the watcher's ticks, so the
tasks cannot change under it. For each live task:

* its chain of awaits (``cr_await``, ``gi_yieldfrom``: coroutines, generators, async
  generators and ``async with``), outermost first;
* its *logical* stack: a task awaited by another (``await task``, ``gather``,
  ``TaskGroup``, ``wait``, ``as_completed``, ``wait_for``, ``shield``: ``_groups``) is
  prefixed with its awaiter's logical stack, so a gathered child reads handler ->
  service -> client. One rule for every kind: the awaiter itself is not counted, and
  each of the N live children of the group it awaits weighs 1/N of it (a shielded task
  all of it: asyncpg's ``Pool.release``);
* its leaf (``_leaf.classify``): kind, resource, detail.

Equal (logical stack, kind, resource) are counted together. At most ``max_tasks``
tasks are walked per snapshot (a uniform sample, each weighing ``n / walked``), so a
snapshot of 100,000 tasks stays bounded; chains are cut at ``_groups.MAX_CHAIN`` frames
and task links at ``_groups.MAX_LINKS``, so cycles end.
"""
import os
import random
import sys
import threading

from . import _groups, _leaf

MAX_STACKS = 50  # distinct (stack, leaf) groups kept per snapshot, commonest first


def _func(code):
    return getattr(code, "co_qualname", None) or code.co_name


def _done(fut):
    """A future that is done: its task is woken up, waiting for the loop to run it."""
    return fut is not None and _groups.state(fut) is True


def sample(loop, max_tasks):
    """(up to ``max_tasks`` of ``loop``'s unfinished tasks, a uniform sample; how many
    it has), without listing them all: ``asyncio.all_tasks()`` filters every task of
    every loop in Python (about 5 ms for 10,000 on a slow core) where this draws from the
    registry's set of weak references (a C-level copy) and keeps the draws of ``loop``,
    counting them up. None where the registry is not that set (3.14's per-thread lists,
    eager tasks present): the caller lists them all."""
    if sys.version_info >= (3, 14):
        return None
    mod = sys.modules.get("asyncio.tasks")
    registry = getattr(mod, "_scheduled_tasks", None) or getattr(mod, "_all_tasks", None)
    refs = getattr(registry, "data", None)
    if not isinstance(refs, set) or getattr(mod, "_eager_tasks", None):
        return None
    refs = list(refs)
    drawn = refs if len(refs) <= max_tasks else random.sample(refs, max_tasks)
    get_loop = sys.modules["asyncio.futures"]._get_loop
    out = []
    for ref in drawn:
        t = ref()
        if t is not None and not t.done() and get_loop(t) is loop:
            out.append(t)
    return out, (len(out) if drawn is refs else round(len(refs) * len(out) / len(drawn)))


def snapshot(tasks, max_tasks, live=None, woken=1.0):
    """({(key, kind, resource): [weight, detail]}, live, walked) for the unfinished tasks;
    ``live``: how many there are when ``tasks`` is already a sample of them. A task woken
    up (what it awaited is done) but not yet run counts ``woken`` of its weight as
    ``ready`` and the rest as waiting on what it awaited (``_watch.woken_ready``)."""
    if live is None:
        tasks = [t for t in tasks if not t.done()]
        live = len(tasks)
    walk = tasks if len(tasks) <= max_tasks else random.sample(tasks, max_tasks)
    weight = live / len(walk) if walk else 0.0
    keys, cache, groups, codes, memo = {}, {}, {}, {}, _groups.Memo()

    def key(frames):  # code objects hash their whole content: key them by id
        out = []
        for f in frames:
            code = f.f_code
            codes[id(code)] = code
            out.append((id(code), f.f_lineno or 0))
        return tuple(out)

    def key_of(task):
        if task not in keys:
            keys[task] = key(_groups.chain(task))
        return keys[task]

    for task in walk:
        frames = _groups.chain(task)
        if _groups.carried(task, memo, frames):
            continue  # it awaits other tasks (a group of them): they carry its time
        fut = getattr(task, "_fut_waiter", None)
        inner = _groups.shielded(fut) if fut is not None else None  # done: woken
        keys[task] = own = key(frames)
        share, prefix, t, seen = weight, (), task, {task}
        for _ in range(_groups.MAX_LINKS):
            up = _groups.awaiter(t, memo)
            if up is None or up[0] in seen:
                break
            t = up[0]
            seen.add(t)
            share *= up[1]
            prefix = key_of(t) + prefix
        stack = prefix + own
        if inner is not None or _done(fut) or task in memo.ended:  # woken, waiting for the loop
            if woken < 1.0:
                _add(groups, stack, _leaf.classify(frames, fut, cache), share * (1.0 - woken))
            if woken > 0.0:
                _add(groups, stack, ("ready", "", None), share * woken)
        else:
            _add(groups, stack, _leaf.classify(frames, fut, cache), share)
    return {(tuple((codes[c], ln) for c, ln in k), kind, res): g
            for (k, kind, res), g in groups.items()}, live, len(walk)


def _add(groups, stack, found, share):
    """Add ``share`` to the group of ``stack`` and ``found`` = (kind, resource, detail)."""
    kind, resource, detail = found
    g = groups.setdefault((stack, kind, resource), [0.0, None])
    g[0] += share
    if detail is not None:
        g[1] = detail


class _StackTable:
    """The ids of the stacks this process's stream has defined (v3 records): a stack is
    written in full once, in the record that first has it (``defs``), then by id.
    Keyed by (id(code), line) with the code objects kept alive, so an id never stands for
    another code; ids are never reused, and a forked child (a new stream) starts over."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pid = None
        self.ids = {}
        self.next = 1

    def ids_of(self, keys):
        """([id per stack key], [[id, stack], ...] of the ones new to the stream)."""
        out, defs = [], []
        if self.pid != os.getpid():  # a forked child: its own stream, maybe a held lock
            self.lock, self.ids, self.pid = threading.Lock(), {}, os.getpid()
        with self.lock:
            if len(self.ids) >= MAX_STACK_IDS:
                self.ids = {}  # ids go on: an old id never returns
            for key in keys:
                k = tuple((id(c), ln) for c, ln in key)
                found = self.ids.get(k)
                if found is None:
                    found = self.ids[k] = (self.next, key)
                    self.next += 1
                    defs.append([found[0], [[_func(c), c.co_filename, ln] for c, ln in key]])
                out.append(found[0])
        return out, defs


_TABLE = _StackTable()
MAX_STACK_IDS = 20000


def record(snap, thread_id, dt, dur):
    """The ``waits`` record (v3) of one snapshot; ``dt`` is the time it stands for."""
    groups, live, walked = snap
    top = sorted(groups.items(), key=lambda kv: -kv[1][0])
    kept = [kv for kv in top[:MAX_STACKS] if kv[0][0]]
    leaves = []
    for (_key, kind, resource), (_n, detail) in kept:
        leaf = {"kind": kind, "resource": resource}
        if detail:
            leaf.update(detail)
        leaves.append(leaf)
    ids, defs = _TABLE.ids_of([key for (key, _k, _r), _g in kept])
    rec = {"type": "waits", "v": 3, "thread_id": thread_id, "n": live, "walked": walked,
           "dt_ms": round(dt * 1000, 3), "dur_ms": round(dur * 1000, 3),
           "other": round(sum(n for _k, (n, _d) in top[MAX_STACKS:]), 3),
           "stacks": [[sid, round(n, 3)] for sid, (_key, (n, _d)) in zip(ids, kept)],
           "leaves": leaves}
    if defs:
        rec["defs"] = defs
    return rec
