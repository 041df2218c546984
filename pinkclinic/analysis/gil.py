"""GIL contention: threads of one process wait for the GIL, not for a core.

A thread that wants to run waits for one of two things: a core (it is runnable, on the
kernel's run queue, while every core it may use is busy) or the GIL (it is blocked in
``take_gil``'s futex while another thread holds it). Only the second is the GIL's
fault; running the work in processes helps only then, and only if there are idle cores
to run them on. :mod:`.thread_time` splits each thread's time exactly that way (on a
CPU, waiting for a CPU, waiting for the GIL, other waits), from the kernel's schedstat,
the threads' states and py-spy's samples.

gil-contention is reported when, in one process,

* at least :data:`GIL_MIN_BUSY_THREADS` threads wanted to run at once, on average;
* the GIL took at least :data:`GIL_SHARE` of the time they wanted to run and were not
  on the run queue (``gil / (on CPU + gil)``). The run queue is left out because a
  loaded machine delays every thread, the GIL's waiters included (each wakes every 5 ms
  to ask for it); the ratio of GIL waits to CPU time stays.
* the process may use at least :data:`GIL_MIN_USABLE` cores (its affinity and cgroup
  quota counted): the GIL holds a process to one core, which only matters where it may
  use more; on one core the limit is the core (:mod:`.saturation`), and more processes
  would not help.

Its culprits are the code those threads ran in py-spy's busy samples: the Python they
execute holding the GIL (a thread waiting for the GIL shows the code it is about to run),
less the samples in a call that releases the GIL (a socket's send or receive), where a
thread waits to get it back rather than holds it.
A recording without schedstat falls back on :mod:`.gil_estimate`.
"""

from __future__ import annotations

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import ISSUE, NONE, Finding, clamp01, insufficient
from pinkclinic.analysis.gil_estimate import (
    GIL_MIN_BUSY_THREADS,
    GIL_MIN_CPU,
    GIL_WAIT_SHARE,
    estimate,
)
from pinkclinic.analysis.thread_time import ProcessTime, cores_text, culprits, split

GIL_SHARE = 0.3        # of the wanting threads' time off the run queue, waiting for the GIL
GIL_MIN_USABLE = 1.5   # usable cores: below, the core is the limit, not the GIL
MIN_SPAN_S = 1.0
TOP_THREADS = 8        # threads listed in the evidence

__all__ = ["GIL_MIN_BUSY_THREADS", "GIL_MIN_CPU", "GIL_WAIT_SHARE", "analyse", "row"]


def row(p: ProcessTime, machine_cores: int) -> dict:
    """The evidence for one process: its threads' time split, in threads on average and
    in shares of the time they wanted to run."""
    want, gil, on_cpu = p.total("wanting_s"), p.total("gil_s"), p.total("on_cpu_s")
    usable = float(p.cores.get("usable") or machine_cores)
    return {"pid": p.pid, "seconds": round(p.seconds, 2),
            "wanting_threads": round(p.per_second("wanting_s"), 2),
            "busy_threads": round(sum((t.busy_share or 0.0) * t.wall_s for t in p.threads)
                                  / p.seconds, 2) if p.seconds else 0.0,
            "cpu_cores": round(p.per_second("on_cpu_s"), 2),
            "runq_threads": round(p.per_second("runq_s"), 2),
            "gil_threads": round(p.per_second("gil_s"), 2),
            "lock_threads": round(p.per_second("lock_s"), 2),
            "other_threads": round(p.per_second("other_s"), 2),
            "io_threads": round(p.per_second("io_s"), 2),
            "gil_share": round(gil / (on_cpu + gil), 3) if on_cpu + gil else 0.0,
            "gil_of_wanting": round(gil / want, 3) if want else 0.0,
            "runq_share": round(p.total("runq_s") / want, 3) if want else 0.0,
            "wait_share": round(gil / (on_cpu + gil), 3) if on_cpu + gil else 0.0,
            "threads_wanting": sum(1 for t in p.threads if t.wanting_s > 0.05 * p.seconds),
            "usable_cores": usable, "cores": p.cores,
            "threads": [t.to_dict() for t in p.threads[:TOP_THREADS]],
            "source": "schedstat, /proc thread states and py-spy"}


def contended(r: dict) -> bool:
    return (r["wanting_threads"] >= GIL_MIN_BUSY_THREADS and r["gil_share"] >= GIL_SHARE
            and r["usable_cores"] >= GIL_MIN_USABLE)


def analyse(data: RecordingData) -> Finding:
    if data.window_profile is None:
        return Finding(signal="gil", status=NONE, summary="no stack samples", missing=["stacks"])
    span = data.stack_span
    if span is None or span[1] - span[0] < MIN_SPAN_S:
        return insufficient("gil", "py-spy sampled the load window for less than a second")
    times = split(data)
    if times is None:
        return estimate(data, span)
    rows = [row(p, data.cpu_count) for p in times.values() if p.seconds >= MIN_SPAN_S]
    worst = max(rows, key=lambda r: (contended(r), r["gil_threads"]), default=None)
    if worst is None:
        return insufficient("gil", "no thread times for the sampled processes")
    waits = (f"waiting for the GIL took {100 * worst['gil_share']:.0f}% of the time they ran or "
             f"waited for it; waiting for a core, {100 * worst['runq_share']:.0f}% of the time "
             "they wanted to run")
    cores = cores_text(worst["cores"], worst["usable_cores"])
    if not contended(worst):
        return Finding(signal="gil", status=NONE, evidence=worst,
                       summary=f"{worst['wanting_threads']:.1f} threads wanted to run on average "
                               f"at {worst['cpu_cores']:.2f} cores: {waits}: no GIL contention")
    proc = times[worst["pid"]]
    waiting = [t for t in proc.threads if t.gil_s > 0.05 * proc.seconds]
    return Finding(signal="gil", status=ISSUE, category="gil-contention",
                   severity=clamp01(worst["gil_share"] * min(1.0, worst["wanting_threads"] / 4)),
                   evidence=worst, culprits=culprits(data, waiting, holding_gil=True),
                   summary=f"{worst['wanting_threads']:.1f} threads of PID {worst['pid']} wanted "
                           f"to run at once but the process used {worst['cpu_cores']:.2f} of "
                           f"{cores}: {waits}")
