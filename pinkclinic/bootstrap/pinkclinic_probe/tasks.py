"""Feature ``tasks``: live asyncio tasks per loop, sampled every ``tasks_ms`` (500).

The count is taken on the loop thread itself, inside one of the watcher's ticks
(``asyncio.all_tasks()`` is not thread-safe), and written as a ``tasks`` record.
"""
from . import _loops


def install(probe):
    _loops.enable(probe, tasks=True)
    return {"tasks_ms": probe.opt("tasks_ms", 500)}
