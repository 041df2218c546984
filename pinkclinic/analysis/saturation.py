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
  removing the GIL would not make the core bigger); or
* its cgroup's CPU quota was the limit and stopped it: the quota ran out in at least
  :data:`THROTTLED_SHARE` of its periods (the kernel's own count, ``cpu.stat``; the
  threshold of Kubernetes' CPUThrottlingHigh alert) while the process used
  :data:`BUSY_SHARE` of it. Threads stopped by the quota wait on the run queue, but a
  thread that waits for the GIL meanwhile does not, so the run queue alone can
  understate a quota's hold on a threaded server.

Its culprits are the code that held the CPU: py-spy's busy samples of the threads that
ran or waited for a core.
"""

from __future__ import annotations

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import INSUFFICIENT, NONE, Finding
from pinkclinic.analysis.gil import row
from pinkclinic.analysis.thread_time import ProcessTime, cores_text, culprits, split

RUNQ_SHARE = 0.2
RUNQ_THREADS = 0.25
BUSY_SHARE = 0.8
MORE_THREADS = 0.5
STARVED_SHARE = 0.5
THROTTLED_SHARE = 0.25
MIN_SPAN_S = 1.0


def saturated(r: dict) -> bool:
    u = r["usable_cores"]
    waited = (r["runq_share"] >= RUNQ_SHARE and r["runq_threads"] >= RUNQ_THREADS
              and r["cpu_cores"] + r["runq_threads"] > u)
    full = r["cpu_cores"] >= BUSY_SHARE * u and r["wanting_threads"] >= u + MORE_THREADS
    return waited or full or throttled(r)


def throttled(r: dict) -> bool:
    """The cgroup quota is the usable cores' limit, it ran out in :data:`THROTTLED_SHARE`
    of its periods and the process used :data:`BUSY_SHARE` of it."""
    t, cores = r.get("throttle"), r["cores"]
    return (t is not None and t["share"] >= THROTTLED_SHARE
            and cores.get("cgroup_quota") == r["usable_cores"]
            and r["cpu_cores"] >= BUSY_SHARE * r["usable_cores"])


def starved(r: dict) -> bool:
    """Fewer runnable threads than cores, yet most of their wanting time on the run
    queue, and more threads waiting for a core than blocked in calls (an upstream, I/O):
    other processes held the cores."""
    return (r["runq_share"] >= STARVED_SHARE and r["runq_threads"] >= RUNQ_THREADS
            and r["runq_threads"] >= r["io_threads"])


def server(times: dict[int, ProcessTime]) -> ProcessTime | None:
    """The whole tree as one: its processes share the cores (gunicorn's workers)."""
    procs = [p for p in times.values() if p.seconds >= MIN_SPAN_S]
    if not procs:
        return None
    top = max(procs, key=lambda p: p.total("on_cpu_s") + p.total("runq_s"))
    usable = max((p.cores.get("usable") or 0 for p in procs), default=0)
    limited = top if top.cores.get("usable") == usable else next(
        (p for p in procs if p.cores.get("usable") == usable), top)
    throttle = limited.throttle or next((p.throttle for p in procs if p.throttle), None)
    threads = sorted((t for p in procs for t in p.threads), key=lambda t: (-t.wanting_s, t.tid))
    return ProcessTime(pid=top.pid, seconds=max(p.seconds for p in procs), threads=threads,
                       cores=limited.cores, throttle=throttle)


def analyse(data: RecordingData) -> Finding:
    times = split(data)
    if not times:
        return Finding(signal="saturation", status=INSUFFICIENT,
                       summary="no run-queue times (schedstat) recorded",
                       missing=["schedstat"] if data.rec.stream_file("threads") else [])
    tree = server(times)
    if tree is None:
        return Finding(signal="saturation", status=INSUFFICIENT,
                       summary="the thread times cover less than a second")
    r = {**row(tree, data.cpu_count), "processes": sorted({t.pid for t in tree.threads}),
         "throttle": tree.throttle}
    r.pop("pid")
    n = len(r["processes"])
    who = "the process" if n == 1 else f"the {n} processes"
    cores = cores_text(r["cores"], r["usable_cores"])
    full, short = saturated(r), starved(r)
    if not (full or short):
        return Finding(signal="saturation", status=NONE,
                       evidence={**r, "saturated": False, "starved": False},
                       summary=f"{cores} were not saturated: threads waited "
                               f"{100 * r['runq_share']:.0f}% of their time for a core")
    seen = [t for t in tree.threads if t.busy_share is not None] or tree.threads  # py-spy's
    hot = [t for t in seen if t.on_cpu_s + t.runq_s > 0.05 * tree.seconds]
    found = culprits(data, hot)
    where = f" running {found[0].function}()" if found else ""
    threads = f"{len(hot)} thread{'' if len(hot) == 1 else 's'}{where}"
    waits = f"waited {100 * r['runq_share']:.0f}% of the time for a core"
    if r["gil_of_wanting"] >= 0.1:
        waits += f" and {100 * r['gil_of_wanting']:.0f}% for the GIL"
    if full:
        text = f"{cores} {'was' if r['usable_cores'] == 1 else 'were'} saturated: {threads} {waits}"
        if r["cpu_cores"] < BUSY_SHARE * r["usable_cores"]:
            text += f" ({who} used {r['cpu_cores']:.2f} cores; other processes held the rest)"
        else:
            text += f" ({who} used {r['cpu_cores']:.2f} cores)"
        if throttled(r):
            text += (f"; its cgroup's CPU quota stopped it in {100 * r['throttle']['share']:.0f}%"
                     " of the quota's periods")
    else:
        text = (f"other processes held the cores: {threads} {waits}, though fewer threads "
                f"({r['cpu_cores'] + r['runq_threads']:.1f} on average) than {cores} were "
                "runnable (a shared or overloaded machine)")
    return Finding(signal="saturation", status=NONE,
                   evidence={**r, "saturated": full, "starved": short and not full},
                   culprits=found, summary=text)
