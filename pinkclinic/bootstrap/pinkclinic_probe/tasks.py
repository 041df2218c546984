"""Feature ``tasks``: live asyncio tasks per loop, and where tasks and threads wait.

The count is taken on the loop thread itself, inside one of the watcher's ticks
(``asyncio.all_tasks()`` is not thread-safe), and written as a ``tasks`` record every
``tasks_ms`` (500). The same ticks snapshot every task's await chain (``_waits``): every
``waits_ms`` when it is set, else with the counts. With ``waits_ms`` set, the threads
that run no event loop are snapshotted at the same period (``_thread_waits``), on the
probe's sampler thread, as often as about 1.5% of a core allows: the budget counts the
sampler's own CPU time, not its wall time, which waiting for the GIL behind busy
request threads can stretch a hundredfold (a gthread worker serialised on a lock).
While a snapshot finds no such thread (an asyncio server), they are looked for once
every ``IDLE_S`` only.
"""
import time

from . import _loops, _thread_waits, _waits

IDLE_S = 1.0  # how often threads are looked for while a snapshot finds none


def _threads_job(probe, period):
    last = [None, 0]  # the previous snapshot's time, and how many threads it saw

    def job():
        t0, cpu0 = time.perf_counter(), time.thread_time()
        skip = probe.own_idents() | set(_loops._watchers)
        groups = _thread_waits.snapshot(skip)
        now = time.perf_counter()
        # after a snapshot that saw no thread, a sparse one: the new threads stand for
        # one period, not for the whole gap
        dt = now - last[0] if last[0] is not None and last[1] else period
        n = int(sum(g[0] for g in groups.values()))
        last[0], last[1] = now, n
        rec = _waits.record((groups, n, n), 0, dt, now - t0)
        rec["source"] = "threads"
        probe.write(rec)
        cost = time.thread_time() - cpu0  # the snapshot and its record, on a CPU
        if not n:  # no thread but loops and the probe's (an asyncio server): each look is
            return max(period, IDLE_S)  # a wake-up (~150 µs on a VM) that finds nothing
        return max(period, cost / 0.015)  # about 1.5% of a core at most
    return job


def start_thread_waits(probe):
    """The threads' snapshots on the sampler thread, when ``waits_ms`` is set; the
    ``feature`` record's extra keys. Also used by an attached probe (``_attached``)."""
    waits_ms = probe.opt("waits_ms", 0)
    out = {"tasks_ms": probe.opt("tasks_ms", 500), "waits_ms": waits_ms}
    if waits_ms and _thread_waits.available():
        probe.every(waits_ms / 1000.0, _threads_job(probe, waits_ms / 1000.0), "thread-waits")
        out["thread_waits"] = True
    return out


def install(probe):
    _loops.enable(probe, tasks=True)
    return start_thread_waits(probe)
