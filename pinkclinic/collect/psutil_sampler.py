"""Sample every process of the target's tree, every interval, into ``processes.jsonl``.

A thread in pinkclinic's own process, beside the load generator, so it is kept cheap:

* on Linux it reads ``/proc/PID/stat``, ``status`` and ``fd`` directly (about 3x
  cheaper than the equivalent psutil ``oneshot()`` calls; psutil elsewhere);
* USS needs ``smaps_rollup``, which costs ~0.8 ms for a 50 MB process, so it is read
  every ``uss_interval`` (0.5 s) rather than every tick;
* the tree is re-walked every ``tree_interval`` (50 ms) through
  ``/proc/PID/task/TID/children`` instead of psutil's whole-machine scan.

* with ``thread_states``, each thread's state (running, futex, blocked) every 20 ms,
  into ``threads.jsonl`` (:mod:`pinkclinic.collect.thread_states`).

A tick that comes late (the thread was descheduled) is not followed by a catch-up tick:
two samples a fraction of a millisecond apart make per-pair CPU rates meaningless.

Figures: ``bench/results/collectors_cost.md``. It also keeps a compact per-tick series of
the whole tree's CPU time and RSS for :meth:`ProcessSampler.cpu_percent` and
:meth:`ProcessSampler.peak_rss` over any window (bench suites: per-endpoint figures).
"""

from __future__ import annotations

import os
import threading
import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from pathlib import Path

from pinkclinic import procs, redact
from pinkclinic.collect.proc_read import cmdline as _cmdline
from pinkclinic.collect.proc_read import read_proc as _read_proc
from pinkclinic.collect.proc_read import read_psutil as _read_psutil
from pinkclinic.collect.thread_states import SCHEMA_VERSION as TS_VERSION
from pinkclinic.collect.thread_states import ThreadStates
from pinkclinic.jsonio import dumps

SCHEMA_VERSION = 1


class ProcessSampler:
    """Samples ``root_pid`` and its descendants every ``interval`` seconds.

    ``out`` is the path of the stream (``None``: keep only the window series).
    ``returncode(pid)`` may give the exit code of the launched root (our child) for its
    ``exit`` event, which waits up to 0.5 s for it; other processes' exit codes are not
    visible (``null``). One write and one flush per tick."""

    def __init__(self, root_pid: int, out: str | os.PathLike | None = None, *,
                 interval: float = 0.010, uss_interval: float = 0.5, tree_interval: float = 0.05,
                 returncode: Callable[[int], int | None] | None = None,
                 thread_states: str | os.PathLike | None = None):
        self.root_pid = root_pid
        self.interval = interval
        self.uss_interval = uss_interval
        self.tree_interval = tree_interval
        self._returncode = returncode
        self.path = None if out is None else Path(out)
        self._f = None
        if self.path is not None:
            self._f = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
            if self._f.tell() == 0:
                self._f.write(dumps({"schema_version": SCHEMA_VERSION, "stream": "processes",
                                     "interval_ms": interval * 1000, "root_pid": root_pid,
                                     "cpu_count": os.cpu_count()}) + "\n")
                self._f.flush()
        self._states = None
        if thread_states is not None and procs.HAVE_PROC:
            self._states = ThreadStates(open(thread_states, "a", encoding="utf-8"))  # noqa: SIM115
        self._read = _read_proc if procs.HAVE_PROC else _read_psutil
        self._names: dict[bytes, str] = {}
        self._known: dict[int, float] = {}  # pid -> last cumulative cpu seconds
        self._pending_exit: dict[int, float] = {}  # pid -> when it was seen gone
        self._gone: set[int] = set()
        self._dead_cpu = 0.0
        self.times, self.tree_cpu, self.tree_rss = array("d"), array("d"), array("d")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_tree = self._next_uss = 0.0
        # cost accounting, in CPU seconds of this thread (wall time would count preemption)
        self.ticks = self.samples = self.overruns = self.uss_samples = self.reads = 0
        self.busy_s = self.uss_s = self.read_s = 0.0

    @classmethod
    def for_recording(cls, rec, root_pid: int, *, interval: float = 0.010,
                      thread_states: bool = False, **kw) -> ProcessSampler:
        """A sampler writing ``processes.jsonl`` (and ``threads.jsonl`` with
        ``thread_states``) in ``rec``, listed in its manifest."""
        path = rec.register("processes", "processes.jsonl", format="jsonl",
                            schema_version=SCHEMA_VERSION)
        if thread_states:
            kw["thread_states"] = rec.register("threads", "threads.jsonl", format="jsonl",
                                               schema_version=TS_VERSION)
        return cls(root_pid, path, interval=interval, **kw)

    # -- thread ---------------------------------------------------------------------------
    def start(self) -> ProcessSampler:
        self._thread = threading.Thread(target=self._run, name="pinkclinic-psutil-sampler",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling (one last tick is taken first) and close the stream."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._f is not None:
            self._f.close()
            self._f = None
        if self._states is not None:
            self._states.close(time.time())
            self._states = None

    def _run(self) -> None:
        nxt = time.monotonic()
        while True:
            self.tick()
            if self._stop.is_set():
                return
            nxt += self.interval
            now = time.monotonic()
            if nxt < now:  # late: the next tick a full interval on, not at once
                self.overruns += 1
                nxt = now + self.interval
            self._stop.wait(nxt - now)

    # -- one tick -------------------------------------------------------------------------
    def tick(self) -> None:
        c0 = time.thread_time()
        now_m = time.monotonic()
        t = round(time.time(), 4)
        out: list[str] = []
        if now_m >= self._next_tree or not self._known:
            self._next_tree = now_m + self.tree_interval
            for pid in procs.tree_pids(self.root_pid):
                if pid not in self._known and pid not in self._gone:
                    self._known[pid] = 0.0
                    out.append(dumps({"t": t, "pid": pid, "event": "spawn",
                                      "cmdline": redact.argv(_cmdline(pid))}) + "\n")
        want_uss = now_m >= self._next_uss
        if want_uss:
            self._next_uss = now_m + self.uss_interval
        live_cpu = rss = 0.0
        for pid in list(self._known):
            u0 = time.thread_time()
            got = self._read(pid, want_uss, self._names)
            if want_uss:
                self.uss_s += time.thread_time() - u0
                self.uss_samples += 1
            else:
                self.read_s += time.thread_time() - u0
                self.reads += 1
            if got is None:
                self._dead_cpu += self._known.pop(pid)
                self._gone.add(pid)
                self._pending_exit[pid] = now_m
                continue
            line, cpu, mem = got
            self._known[pid] = cpu
            live_cpu += cpu
            rss += mem
            out.append(line)
            self.samples += 1
        for pid, seen in list(self._pending_exit.items()):
            # only the launched root is our child: wait a moment for its reaper's exit code
            code = self._returncode(pid) if self._returncode and pid == self.root_pid else None
            if (code is not None or pid != self.root_pid or self._returncode is None
                    or now_m - seen > 0.5 or self._stop.is_set()):
                del self._pending_exit[pid]
                out.append(dumps({"t": t, "pid": pid, "event": "exit", "returncode": code}) + "\n")
        if self._states is not None:
            self._states.sample(list(self._known), now_m, t)
        self.times.append(t)
        self.tree_cpu.append(self._dead_cpu + live_cpu)
        self.tree_rss.append(rss)
        if self._f is not None and out:
            self._f.write("".join(out))
            self._f.flush()
        self.ticks += 1
        self.busy_s += time.thread_time() - c0

    # -- windows --------------------------------------------------------------------------
    def _span(self, t0: float, t1: float) -> tuple[int, int]:
        return bisect_left(self.times, t0), bisect_right(self.times, t1) - 1

    def cpu_percent(self, t0: float, t1: float) -> float | None:
        """CPU used by the whole tree over [t0, t1], in % of one core (200 = two cores).
        ``None`` if the window holds fewer than two ticks."""
        i, j = self._span(t0, t1)
        if j <= i or self.times[j] <= self.times[i]:
            return None
        return 100.0 * (self.tree_cpu[j] - self.tree_cpu[i]) / (self.times[j] - self.times[i])

    def peak_rss(self, t0: float, t1: float) -> int | None:
        """The largest total RSS of the tree (bytes) over [t0, t1]; ``None`` if no tick."""
        i, j = self._span(t0, t1)
        if j < i:
            return None
        return int(max(self.tree_rss[i:j + 1]))

    def cost(self) -> dict:
        """Measured cost: µs per tick (everything: tree walk, reads, JSON, write), per
        process read without USS, and per process read with USS."""
        return {"ticks": self.ticks, "samples": self.samples, "overruns": self.overruns,
                "us_per_tick": 1e6 * self.busy_s / max(1, self.ticks),
                "us_per_process_read": 1e6 * self.read_s / max(1, self.reads),
                "us_per_process_read_with_uss": 1e6 * self.uss_s / max(1, self.uss_samples)}
