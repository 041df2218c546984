"""Where each thread's time went in the load window: on a CPU, waiting for a CPU,
waiting for the GIL, or waiting on something else (a lock, I/O, a sleep).

From the sampler's ``threads.jsonl`` (:mod:`pinkclinic.collect.thread_states`):

* **on a CPU** and **waiting for a CPU** (the run queue: every core the thread may use
  was busy, or its cgroup's quota was spent) come from the kernel's schedstat, exact;
* the rest of the wall time the thread was off the run queue, blocked. The thread-state
  samples split it: the share seen in ``futex`` (the GIL, a lock or a condition) and
  the share seen in any other call (I/O, a sleep);
* of the other waits, the part py-spy saw busy is a blocking call made from Python
  (``recv`` from an upstream, ``time.sleep``): what a request waits on (``io_s``); the
  rest is a known idle wait (a selector, ``accept``: waiting for work);
* of the futex time, the GIL is what py-spy still saw busy: a thread waiting for the GIL
  shows the Python code it wants to run, one waiting on a lock or a condition shows the
  wait (``Condition.wait``, an idle leaf). So per thread
  ``gil = min(futex, py-spy's busy time - on CPU - waiting for a CPU)``, the rest of the
  futex time is a lock;
* except where the probe saw the lock: a thread blocked in ``with lock:`` or
  ``lock.acquire()`` on a ``threading.Lock`` has no Python frame for the wait, so py-spy
  shows it busy in the caller, like a GIL waiter. The probe's thread snapshots
  (``waits`` records, ``source: "threads"``) read the instruction and say ``lock``: the
  mean number of threads they saw so, times the span, moves from the GIL to locks, spread
  over the process's threads by their GIL time.

Recordings of schema 1 (no schedstat) give no split: :func:`split` returns ``None`` and
the GIL analysis falls back on its older estimate.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

from pinkclinic.analysis.culprits import rank
from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import Culprit
from pinkclinic.analysis.stacks import frames_of, thread_summary
from pinkclinic.jsonio import read_jsonl
from pinkclinic.profile.idle import releases_gil


def thread_states(data: RecordingData) -> tuple[dict[tuple[int, int], list[int]], str | None] | None:
    """(pid, tid) -> [running, futex, blocked] samples in the window, from the sampler's
    ``threads.jsonl``, and why it is incomplete (``None`` if it is not); ``None`` when the
    recording has no such stream."""
    got = _read(data)
    return None if got is None else (got[0], got[3])


def _read(data: RecordingData):
    """(states, sched, cores, error, throttle): per (pid, tid) state counts and [on CPU s,
    run-queue s, wall s] over the window's records, pid -> the last usable-cores record,
    and pid -> its cgroup quota's throttling over the window (:func:`_throttled`)."""
    path = data.rec.stream_file("threads")
    if path is None:
        return None
    w = data.window
    states: dict[tuple[int, int], list[int]] = {}
    sched: dict[tuple[int, int], list[float]] = {}
    cores: dict[int, dict] = {}
    counters: dict[int, list[dict | None]] = {}  # pid -> [before the window, last in it]
    error = None
    for r in read_jsonl(path):
        if "error" in r:
            error = str(r["error"])
            continue
        mid = r.get("t", 0.0) + r.get("dur_s", 0.0) / 2
        pid = int(r.get("pid") or 0)
        if w is not None and not w.contains(mid):
            if r.get("throttle") and mid < w.start:
                counters.setdefault(pid, [None, None])[0] = r["throttle"]
            continue
        for tid, counts in (r.get("tids") or {}).items():
            acc = states.setdefault((pid, int(tid)), [0, 0, 0])
            for i, n in enumerate(counts[:3]):
                acc[i] += int(n)
        for tid, (on_cpu, runq) in (r.get("sched") or {}).items():
            acc2 = sched.setdefault((pid, int(tid)), [0.0, 0.0, 0.0])
            acc2[0] += on_cpu
            acc2[1] += runq
            acc2[2] += float(r.get("dur_s") or 0.0)
        if r.get("cores"):
            cores[pid] = r["cores"]
        if r.get("throttle"):
            pair = counters.setdefault(pid, [None, None])
            if pair[0] is None:
                pair[0] = r["throttle"]  # no record before the window: count from its first
            else:
                pair[1] = r["throttle"]
    throttle = {pid: got for pid, pair in counters.items() if (got := _throttled(*pair))}
    return states, sched, cores, error, throttle


def _throttled(before: dict | None, after: dict | None) -> dict | None:
    """The quota's throttling between two ``throttle`` records: ``{"periods",
    "throttled_periods", "throttled_s", "share"}`` (share: of the periods, the throttled
    ones); ``None`` with fewer than two records or no period between them."""
    if before is None or after is None:
        return None
    d = {k: after.get(k, 0) - before.get(k, 0)
         for k in ("periods", "throttled_periods", "throttled_s")}
    if d["periods"] <= 0:
        return None
    return {"periods": int(d["periods"]), "throttled_periods": int(d["throttled_periods"]),
            "throttled_s": round(d["throttled_s"], 3),
            "share": round(d["throttled_periods"] / d["periods"], 3)}


@dataclass
class ThreadTime:
    pid: int
    tid: int
    name: str | None
    wall_s: float
    on_cpu_s: float
    runq_s: float
    gil_s: float
    lock_s: float
    other_s: float            # any other blocking call: I/O, a sleep, waiting for work
    busy_share: float | None  # py-spy's: the share of its samples not in a known wait
    io_s: float = 0.0         # of other_s, in a call made from Python that py-spy saw busy

    @property
    def wanting_s(self) -> float:
        """The time the thread wanted to run Python or C code: on a CPU or waiting for one
        or for the GIL."""
        return self.on_cpu_s + self.runq_s + self.gil_s

    def to_dict(self) -> dict:
        return {"tid": self.tid, "name": self.name, "wall_s": round(self.wall_s, 3),
                **{k: round(getattr(self, k), 3) for k in
                   ("on_cpu_s", "runq_s", "gil_s", "lock_s", "other_s", "io_s")}}


@dataclass
class ProcessTime:
    pid: int
    seconds: float                       # the span the thread times cover
    threads: list[ThreadTime] = field(default_factory=list)
    cores: dict = field(default_factory=dict)  # usable_cores() as recorded
    throttle: dict | None = None  # its cgroup quota's throttling over the window

    def total(self, what: str) -> float:
        return sum(getattr(t, what) for t in self.threads)

    def per_second(self, what: str) -> float:
        """Threads on average (thread-seconds per second) in state ``what``."""
        return self.total(what) / self.seconds if self.seconds > 0 else 0.0


_SPLITS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def split(data: RecordingData) -> dict[int, ProcessTime] | None:
    """pid -> its threads' time split; ``None`` without schedstat in the recording.
    Without py-spy's samples the futex time all counts as locks. Computed once per
    :class:`RecordingData` (the GIL and saturation analyses share it)."""
    if data not in _SPLITS:
        _SPLITS[data] = _split(data)
    return _SPLITS[data]


def _split(data: RecordingData) -> dict[int, ProcessTime] | None:
    got = _read(data)
    if got is None or not got[1]:
        return None
    states, sched, cores, _, throttle = got
    pyspy = {(s["pid"], s["tid"]): s for s in thread_summary(data).values()}
    out: dict[int, ProcessTime] = {}
    for (pid, tid), (on_cpu, runq, wall) in sched.items():
        proc = out.setdefault(pid, ProcessTime(pid=pid, seconds=0.0, cores=cores.get(pid, {}),
                                               throttle=throttle.get(pid)))
        proc.seconds = max(proc.seconds, wall)
        off = max(0.0, wall - on_cpu - runq)
        _, futex, blocked = states.get((pid, tid), [0, 0, 0])
        futex_s = off * futex / (futex + blocked) if futex + blocked else 0.0
        spy = pyspy.get((pid, tid))
        busy_share = None
        gil = io = 0.0
        other = max(0.0, off - futex_s)
        if spy and spy["busy"] + spy["idle"] > 0:
            busy_share = spy["busy"] / (spy["busy"] + spy["idle"])
            gil = min(futex_s, max(0.0, busy_share * wall - on_cpu - runq))
            io = min(other, max(0.0, busy_share * wall - on_cpu - runq - gil))
        proc.threads.append(ThreadTime(
            pid=pid, tid=tid, name=spy.get("name") if spy else None, wall_s=wall,
            on_cpu_s=on_cpu, runq_s=runq, gil_s=gil, lock_s=futex_s - gil,
            other_s=other, busy_share=busy_share, io_s=io))
    locked = probe_locked_threads(data)
    for proc in out.values():
        _move_seen_locks(proc, locked.get(proc.pid, 0.0))
        proc.threads.sort(key=lambda t: (-t.wanting_s, t.tid))
    return out


def probe_locked_threads(data: RecordingData) -> dict[int, float]:
    """pid -> threads blocked on a lock on average, as the probe's thread snapshots in
    the window saw them (``kind: "lock"``)."""
    seen: dict[int, list[float]] = {}
    for r in data.probe_in_window("waits"):
        if r.get("source") != "threads" or r.get("leaves") is None:
            continue
        acc = seen.setdefault(int(r.get("pid") or 0), [0.0, 0.0])
        acc[0] += sum(float(n) for (_st, n), leaf in zip(r.get("stacks", []), r["leaves"])
                      if leaf.get("kind") == "lock")
        acc[1] += 1
    return {pid: total / n for pid, (total, n) in seen.items() if n}


def _move_seen_locks(proc: ProcessTime, locked: float) -> None:
    gil = proc.total("gil_s")
    if locked <= 0 or gil <= 0:
        return
    keep = 1.0 - min(1.0, locked * proc.seconds / gil)
    for t in proc.threads:
        moved = t.gil_s * (1.0 - keep)
        t.gil_s -= moved
        t.lock_s += moved


def culprits(data: RecordingData, threads: list[ThreadTime], *,
             holding_gil: bool = False) -> list[Culprit]:
    """The code ``threads`` ran in py-spy's busy samples, ranked (user code first).
    ``holding_gil``: only the samples that may hold the GIL, leaving out those in a call
    that releases it (:func:`~pinkclinic.profile.idle.releases_gil`): py-spy counts a
    thread on the run queue as busy, so the threads waiting to get the GIL back after a
    socket send counted where they wait (about half the weight, with a core taken)."""
    keys = {(t.pid, t.tid) for t in threads}
    p = data.window_profile
    stacks = [(frames_of(p, frames), w) for s in thread_summary(data).values()
              if (s["pid"], s["tid"]) in keys for frames, w in s["stacks"]]
    if holding_gil:
        stacks = [(st, w) for st, w in stacks if not (st and releases_gil(st[-1][0], st[-1][1]))]
    return rank(stacks)


def cores_text(cores: dict, usable: float) -> str:
    """"the 2 usable cores", "the 1 usable core (CPU affinity; the machine has 2)"."""
    n = f"{usable:g}"
    text = f"the {n} usable core{'' if usable == 1 else 's'}"
    machine = cores.get("machine")
    why = [w for w, v in (("CPU affinity", cores.get("affinity")),
                          ("cgroup CPU quota", cores.get("cgroup_quota"))) if v and v == usable]
    if machine and usable < machine and why:
        text += f" ({' and '.join(why)}; the machine has {machine})"
    return text
