"""CPU saturation: the server's threads wanted more cores than they could use.

Not a category of its own: a saturated server is busy, and saying so belongs in the
busy/healthy verdict's summary (and, next to another verdict, in its warnings). It is
what a threaded server shows when its threads run C code that releases the GIL
(hashlib, zlib, sqlite3) on fewer cores than threads, or any server limited to fewer
cores than it has work for, by ``taskset``, a cpuset or a container's CPU quota. A wait
on the run queue is not a wait for the GIL, and more processes cannot help: the cores
are full. Cheaper work or more cores can.

From :mod:`.thread_time`, per process, over its usable cores (affinity and cgroup quota
included, not the machine's count). The cores were saturated when either

* more threads were runnable (on a CPU or on the run queue) than there are usable cores,
  on average, and they waited for a core: at least :data:`RUNQ_SHARE` of their wanting
  time and :data:`RUNQ_THREADS` threads on average on the run queue (the kernel leaves a
  runnable thread waiting only while every core it may use is busy, with this process's
  threads or another's). One thread kept waiting by other processes is a shared
  machine, not a server that outgrew its cores; or
* the process alone kept its usable cores :data:`BUSY_SHARE` busy while
  :data:`MORE_THREADS` more threads than there are cores wanted to run (the GIL can
  hide this: on one core the threads wait for the GIL more than for the core, and
  removing the GIL would not make the core bigger).

Its culprits are the code that held the CPU: py-spy's busy samples of the threads that
ran or waited for a core.
"""

from __future__ import annotations

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import NONE, Finding
from pinkclinic.analysis.gil import row
from pinkclinic.analysis.thread_time import cores_text, culprits, split

RUNQ_SHARE = 0.2
RUNQ_THREADS = 0.25
BUSY_SHARE = 0.8
MORE_THREADS = 0.5
MIN_SPAN_S = 1.0


def saturated(r: dict) -> bool:
    u = r["usable_cores"]
    waited = (r["runq_share"] >= RUNQ_SHARE and r["runq_threads"] >= RUNQ_THREADS
              and r["cpu_cores"] + r["runq_threads"] > u)
    full = r["cpu_cores"] >= BUSY_SHARE * u and r["wanting_threads"] >= u + MORE_THREADS
    return waited or full


def analyse(data: RecordingData) -> Finding:
    times = split(data)
    if not times:
        return Finding(signal="saturation", summary="no run-queue times (schedstat) recorded",
                       missing=["schedstat"] if data.rec.stream_file("threads") else [])
    rows = [row(p, data.cpu_count) for p in times.values() if p.seconds >= MIN_SPAN_S]
    worst = max(rows, key=lambda r: (saturated(r), r["runq_threads"] + r["cpu_cores"]),
                default=None)
    if worst is None:
        return Finding(signal="saturation", summary="the thread times cover less than a second")
    cores = cores_text(worst["cores"], worst["usable_cores"])
    if not saturated(worst):
        return Finding(signal="saturation", status=NONE, evidence={**worst, "saturated": False},
                       summary=f"{cores} were not saturated: threads waited "
                               f"{100 * worst['runq_share']:.0f}% of their time for a core")
    proc = times[worst["pid"]]
    seen = [t for t in proc.threads if t.busy_share is not None] or proc.threads  # py-spy's
    hot = [t for t in seen if t.on_cpu_s + t.runq_s > 0.05 * proc.seconds]
    found = culprits(data, hot)
    where = f" running {found[0].function}()" if found else ""
    text = (f"{cores} {'was' if worst['usable_cores'] == 1 else 'were'} saturated: "
            f"{len(hot)} thread{'' if len(hot) == 1 else 's'} of PID {worst['pid']}{where} "
            f"waited {100 * worst['runq_share']:.0f}% of the time for a core")
    if worst["gil_of_wanting"] >= 0.1:
        text += f" and {100 * worst['gil_of_wanting']:.0f}% for the GIL"
    if worst["cpu_cores"] < BUSY_SHARE * worst["usable_cores"]:
        text += f" (the process used {worst['cpu_cores']:.2f} cores; other processes held the rest)"
    else:
        text += f" (the process used {worst['cpu_cores']:.2f} cores)"
    return Finding(signal="saturation", status=NONE, evidence={**worst, "saturated": True},
                   culprits=found, summary=text)
