"""Thread states from ``/proc``: does a thread run, wait on a futex, or sleep?

py-spy judges a thread by its Python leaf frame, so a thread in ``time.sleep(0.2)``, or
in a ``recv`` called from Python, looks as busy as one computing. The kernel knows
better: ``/proc/PID/task/TID/syscall`` reads ``running`` for a thread that is on a CPU
or runnable, and otherwise the number of the system call it is blocked in. CPython's
``take_gil`` waits on a condition variable, so a thread waiting for the GIL blocks in
``futex``; ``time.sleep`` blocks in ``clock_nanosleep``, I/O in ``recvfrom``, ``read``,
``epoll_wait`` and so on. Each sample of a thread counts as one of:

* ``running`` (on a CPU or waiting for one),
* ``futex`` (the GIL, or a lock or condition: py-spy's leaf frame tells those apart),
* ``blocked`` (any other call: asleep, or waiting for I/O; it does not want the GIL).

``running`` does not say whether the thread was on a CPU or waiting for one: the
kernel's own accounting does. ``/proc/PID/task/TID/schedstat`` holds the nanoseconds a
thread has spent on a CPU and waiting on a run queue (runnable, but every core it may
use busy, or its cgroup's quota spent); it is read when a thread is first seen and at
every flush, and each record carries the difference (``sched``: seconds on a CPU,
seconds waiting for one, per thread). Each record also says how many cores the process
may use (:func:`pinkclinic.collect.cores.usable_cores`) and, under a cgroup CPU quota,
the quota's throttling counters so far (:func:`pinkclinic.collect.cores.cgroup_throttling`,
one ``cpu.stat`` read per process and flush).

Counts per thread are written every ``flush_s`` to ``threads.jsonl``::

    {"cores": {"affinity": 2, "cgroup_file": null, "cgroup_quota": null, "machine": 2,
               "usable": 2}, "dur_s": 0.5, "pid": 4242, "sched": {"4243": [0.31, 0.12]},
     "t": 1700000000.0, "ticks": 25, "tids": {"4243": [20, 3, 2]}}

plus ``"throttle": {"periods": 31, "throttled_periods": 11, "throttled_s": 0.158}``
where a quota applies.

Reading another process's ``syscall`` file needs ptrace access (py-spy needs the same);
without it, or on an unknown architecture, one ``{"error": ...}`` record says why and
the analysis falls back on py-spy alone.
"""

from __future__ import annotations

import os
import platform

from pinkclinic.collect.cores import cgroup_throttling, usable_cores
from pinkclinic.jsonio import dumps

SCHEMA_VERSION = 3  # 2: sched (on a CPU / waiting for one) and cores; 3: throttle
STATES = ("running", "futex", "blocked")
CORES_EVERY_S = 2.0  # affinity and cgroup quotas rarely change during a run
# futex and futex_waitv, per architecture (uname -m)
FUTEX_SYSCALLS = {"x86_64": (202, 449), "aarch64": (98, 449), "arm64": (98, 449),
                  "riscv64": (98, 449), "ppc64le": (221, 449), "s390x": (238, 449),
                  "i686": (240, 449), "armv7l": (240, 449)}


class ThreadStates:
    """Called from the sampler's tick; ``sample(pids, t)`` at most every ``interval``."""

    def __init__(self, f, *, interval: float = 0.02, flush_s: float = 0.5):
        self._f = f  # the open threads.jsonl (or None: counts only)
        self.interval, self.flush_s = interval, flush_s
        self.futex = FUTEX_SYSCALLS.get(platform.machine())
        self.error: str | None = None if self.futex else f"unknown architecture {platform.machine()}"
        self._counts: dict[int, dict[int, list[int]]] = {}
        self._ticks: dict[int, int] = {}
        self._since: float | None = None
        self._next = 0.0
        self._sched: dict[tuple[int, int], tuple[int, int]] = {}  # last schedstat read
        self._cores: dict[int, tuple[float, dict]] = {}  # pid -> (read at, usable_cores)
        self.reads = 0
        if f is not None and f.tell() == 0:
            f.write(dumps({"schema_version": SCHEMA_VERSION, "stream": "threads",
                           "interval_ms": interval * 1000, "states": list(STATES),
                           "source": "/proc/PID/task/TID/syscall",
                           "sched": ["on_cpu_s", "runq_s"],
                           "sched_source": "/proc/PID/task/TID/schedstat"}) + "\n")
        if self.error:
            self._write({"error": self.error})

    def _write(self, record: dict) -> None:
        if self._f is not None:
            self._f.write(dumps(record) + "\n")
            self._f.flush()

    def _state(self, pid: int, tid: str) -> int | None:
        fd = os.open(f"/proc/{pid}/task/{tid}/syscall", os.O_RDONLY)
        try:
            data = os.read(fd, 64)
        finally:
            os.close(fd)
        self.reads += 1
        if data.startswith(b"running"):
            return 0
        nr = int(data.split(None, 1)[0])
        return 1 if nr in self.futex else 2

    def sample(self, pids, now_m: float, t: float) -> None:
        if self.error or now_m < self._next:
            return
        self._next = now_m + self.interval
        if self._since is None:
            self._since = t
        for pid in pids:
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            counts = self._counts.setdefault(pid, {})
            for tid in tids:
                try:
                    state = self._state(pid, tid)
                except PermissionError as e:
                    self.error = f"cannot read thread states of PID {pid}: {e.strerror}"
                    self._write({"error": self.error, "pid": pid, "t": t})
                    return
                except (OSError, ValueError, IndexError):
                    continue  # the thread ended meanwhile
                key = (pid, int(tid))
                if key not in self._sched:
                    got = _schedstat(pid, tid)
                    if got is not None:
                        self._sched[key] = got
                counts.setdefault(int(tid), [0, 0, 0])[state] += 1
            self._ticks[pid] = self._ticks.get(pid, 0) + 1
        if t - self._since >= self.flush_s:
            self.flush(t)

    def flush(self, t: float) -> None:
        if self._since is not None:
            for pid, counts in self._counts.items():
                if counts:
                    cores = self._usable(pid, t)
                    record = {"t": round(self._since, 4), "dur_s": round(t - self._since, 4),
                              "pid": pid, "ticks": self._ticks.get(pid, 0),
                              "tids": {str(k): v for k, v in sorted(counts.items())},
                              "sched": self._sched_deltas(pid, counts), "cores": cores}
                    throttle = cores.get("cgroup_file") and cgroup_throttling(cores["cgroup_file"])
                    if throttle:
                        record["throttle"] = throttle
                    self._write(record)
        self._counts, self._ticks, self._since = {}, {}, None

    def _usable(self, pid: int, t: float) -> dict:
        """The process's usable cores, re-read every ``CORES_EVERY_S`` (~160 µs a read)."""
        got = self._cores.get(pid)
        if got is None or t - got[0] >= CORES_EVERY_S:
            got = self._cores[pid] = (t, usable_cores(pid))
        return got[1]

    def _sched_deltas(self, pid: int, counts: dict[int, list[int]]) -> dict[str, list[float]]:
        """tid -> [seconds on a CPU, seconds waiting for one] since the last read."""
        out = {}
        for tid in sorted(counts):
            key = (pid, tid)
            now, before = _schedstat(pid, tid), self._sched.get(key)
            if now is None:
                self._sched.pop(key, None)  # the thread ended: its last interval is lost
                continue
            self._sched[key] = now
            if before is not None:
                out[str(tid)] = [round((now[0] - before[0]) / 1e9, 4),
                                 round((now[1] - before[1]) / 1e9, 4)]
        return out

    def close(self, t: float) -> None:
        self.flush(t)
        if self._f is not None:
            self._f.close()
            self._f = None


def _schedstat(pid: int, tid) -> tuple[int, int] | None:
    """(ns on a CPU, ns waiting on a run queue) of one thread so far; ``None`` if it is
    gone or the kernel has no schedstat (``CONFIG_SCHED_INFO`` off)."""
    try:
        fd = os.open(f"/proc/{pid}/task/{tid}/schedstat", os.O_RDONLY)
        try:
            fields = os.read(fd, 128).split()
        finally:
            os.close(fd)
        return int(fields[0]), int(fields[1])
    except (OSError, ValueError, IndexError):
        return None
