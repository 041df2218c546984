"""Where asyncio tasks are suspended: the ``waits`` records behind io-wait culprits.

An idle-but-slow asyncio server waits inside awaits (a slow backend, a semaphore
in front of a small pool) that no sampling profiler sees: the loop thread sits in
its selector. Each task's coroutine chain (``cr_await``, ``gi_yieldfrom``) says
where it is suspended. This runs on the loop thread, inside the watcher's tick
that already counts tasks, so the tasks cannot change under it.
"""

MAX_CHAIN = 64
MAX_STACKS = 20  # distinct suspension stacks kept per sample


def _func(code):
    return getattr(code, "co_qualname", None) or code.co_name


def suspension_key(task):
    """((code, line), ...) outermost first, for a task's chain of awaits."""
    out = []
    obj = task.get_coro()
    while obj is not None and len(out) < MAX_CHAIN:
        frame = getattr(obj, "cr_frame", None) or getattr(obj, "gi_frame", None)
        if frame is not None:
            out.append((frame.f_code, frame.f_lineno or 0))
        obj = getattr(obj, "cr_await", None) or getattr(obj, "gi_yieldfrom", None)
    return tuple(out)


def sample(tasks):
    """{suspension key: count} over the live, unfinished tasks."""
    counts = {}
    for task in tasks:
        if task.done():
            continue
        key = suspension_key(task)
        if key:
            counts[key] = counts.get(key, 0) + 1
    return counts


def record(counts, thread_id):
    top = sorted(counts.items(), key=lambda kv: -kv[1])[:MAX_STACKS]
    return {"type": "waits", "thread_id": thread_id, "n": sum(counts.values()),
            "stacks": [[[[_func(c), c.co_filename, ln] for c, ln in key], n] for key, n in top]}
