"""GIL contention estimated without the kernel's run-queue times (recordings whose
``threads.jsonl`` predates schedstat, schema 1, or has none).

A thread *wants the GIL* while it runs Python or waits to. py-spy counts a thread
as busy whenever its Python leaf frame is not a known wait, which includes a thread
stalled in ``take_gil``, but also one in ``time.sleep`` or in a blocking C call
made from Python (``recv``): those do not want the GIL at all. The sampler's
thread states (``threads.jsonl``, read from ``/proc/PID/task/TID/syscall``) tell
them apart: a GIL wait blocks in ``futex``, a sleep in ``clock_nanosleep``, I/O in
``recvfrom``/``epoll_wait``. So each thread wants the GIL for

    min(py-spy's busy share, the kernel's running + futex share)

of its time (futex alone is also a lock or a condition wait, which py-spy's leaf frame
marks as idle, hence the minimum). If a process's threads want it ``W``
thread-seconds per second while the process uses only ``C`` cores, then ``W - C``
went to waiting. With CPU near one core (the GIL's ceiling) and several threads
wanting to run at once, that wait is the GIL. Without thread states (an old
recording, no ptrace access) py-spy's busy share stands alone.

This cannot tell a wait for the GIL from a wait for a core (:mod:`.gil` can).
"""

from __future__ import annotations

from collections import defaultdict

from pinkclinic.analysis.cpu import cpu_seconds
from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import ISSUE, NONE, Finding, clamp01, insufficient
from pinkclinic.analysis.stacks import rate_hz, thread_summary
from pinkclinic.analysis.thread_time import thread_states

GIL_MIN_BUSY_THREADS = 1.5   # threads wanting the GIL at once, on average
GIL_MIN_CPU = 0.6            # cores: the process is close to the GIL's one-core ceiling
GIL_WAIT_SHARE = 0.4         # share of that wanting time not spent on CPU


def _wanting(s: dict, states: dict) -> float:
    """The share of a thread's sampled time it wanted the GIL."""
    total = s["busy"] + s["idle"]
    busy = s["busy"] / total if total else 0.0
    st = states.get((s["pid"], s["tid"]))
    if not st or sum(st) == 0:
        return busy
    return min(busy, (st[0] + st[1]) / sum(st))


def estimate(data: RecordingData, span: tuple[float, float]) -> Finding:
    seconds = span[1] - span[0]
    hz = rate_hz(data)
    got = thread_states(data)
    states, why = got if got is not None else ({}, "the recording has no thread states")
    source = "py-spy and /proc thread states" if states else f"py-spy only ({why})"
    busy: dict[int, float] = defaultdict(float)
    wanting: dict[int, float] = defaultdict(float)
    threads: dict[int, int] = defaultdict(int)
    for s in thread_summary(data).values():
        if s["pid"] is None:
            continue
        busy[s["pid"]] += s["busy"] / hz
        want_s = _wanting(s, states) * (s["busy"] + s["idle"]) / hz
        wanting[s["pid"]] += want_s
        threads[s["pid"]] += 1 if want_s > 0.05 * seconds else 0
    rows = []
    for pid, busy_s in busy.items():
        cpu = cpu_seconds(data.processes.get(pid, []), *span)
        if cpu is None:
            continue
        want, cores = wanting[pid] / seconds, cpu / seconds
        wait_share = max(0.0, want - cores) / want if want else 0.0
        rows.append({"pid": pid, "busy_threads": round(busy_s / seconds, 2),
                     "wanting_threads": round(want, 2), "cpu_cores": round(cores, 2),
                     "wait_share": round(wait_share, 3), "threads_wanting": threads[pid],
                     "source": source})

    def contended(r: dict) -> bool:
        return (r["wanting_threads"] >= GIL_MIN_BUSY_THREADS and r["cpu_cores"] >= GIL_MIN_CPU
                and r["wait_share"] >= GIL_WAIT_SHARE)

    worst = max(rows, key=lambda r: (contended(r), r["wait_share"] * r["wanting_threads"]),
                default=None)
    if worst is None:
        return insufficient("gil", "no CPU samples for the sampled processes")
    if not contended(worst):
        asleep = worst["busy_threads"] - worst["wanting_threads"]
        note = (f" ({asleep:.1f} more looked busy in Python but slept or waited for I/O)"
                if asleep >= 0.1 else "")
        return Finding(signal="gil", status=NONE, evidence=worst,
                       summary=f"{worst['wanting_threads']:.1f} threads wanted to run on average "
                               f"at {worst['cpu_cores']:.2f} cores{note}: no GIL contention")
    return Finding(signal="gil", status=ISSUE, category="gil-contention",
                   severity=clamp01(worst["wait_share"] * min(1.0, worst["wanting_threads"] / 4)),
                   evidence=worst,
                   summary=f"{worst['wanting_threads']:.1f} threads of PID {worst['pid']} wanted "
                           f"to run at once but the process used {worst['cpu_cores']:.2f} cores: "
                           f"{100 * worst['wait_share']:.0f}% of their time went to waiting for "
                           "the GIL (estimated: this recording has no run-queue times, so a wait "
                           "for a core counts as one for the GIL)")
