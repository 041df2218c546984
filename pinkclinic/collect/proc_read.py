"""One sample of one process, for the psutil sampler: from ``/proc`` on Linux (about 3x
cheaper than psutil's ``oneshot()``), through psutil elsewhere. Each reader returns the
sample as a ``processes.jsonl`` line, the process's cumulative CPU seconds and its RSS,
or ``None`` if the process is gone (or a zombie).

Each sample's ``t`` is the middle of its own CPU-counter read, not the tick's start: the
reads of a tick's other processes, a USS read or a wait for the GIL (every ``/proc`` read
releases it) could put milliseconds between the two, and over the analysis's 100 ms rate
steps 20 ms of such skew read as 2.4 cores on a 2-core machine."""

from __future__ import annotations

import json
import os
import time

import psutil

from pinkclinic import procs
from pinkclinic.jsonio import dumps


def _slurp(path: str) -> bytes:
    """Read a small /proc file: os.open/os.read is ~3x cheaper than open().read()."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 8192)
    finally:
        os.close(fd)


def _uss(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            return sum(int(line.split()[1]) * 1024 for line in f
                       if line.startswith((b"Private_Clean:", b"Private_Dirty:", b"Private_Hugetlb:")))
    except (OSError, ValueError, IndexError):
        return None


# One record, formatted directly: byte-identical to jsonio.dumps (sorted keys, no spaces),
# at a third of the cost of building a dict and encoding it.
_LINE = ('{"cpu_system_s":%r,"cpu_user_s":%r,"ctx_involuntary":%s,"ctx_voluntary":%s,'
         '"fds":%s,"name":%s,"pid":%d,"ppid":%s,"rss":%d,"t":%r,"threads":%s%s}\n')


def read_proc(pid: int, want_uss: bool, names: dict) -> tuple[str, float, int] | None:
    """One sample of ``pid`` from /proc as (JSON line, cpu seconds, rss); ``None`` if it
    is gone (or a zombie)."""
    try:
        t0 = time.time()
        data = _slurp(f"/proc/{pid}/stat")
        t = round((t0 + time.time()) / 2, 4)
        close = data.rfind(b")")
        fields = data[close + 2:].split(None, 22)
        if fields[0] in (b"Z", b"X"):
            return None
        status = _slurp(f"/proc/{pid}/status")
    except (FileNotFoundError, ProcessLookupError):
        return None
    comm = data[data.find(b"(") + 1:close]
    name = names.get(comm)
    if name is None:
        name = names[comm] = json.dumps(comm.decode(errors="replace"), ensure_ascii=False)
    i = status.find(b"\nvoluntary_ctxt_switches:")
    j = status.find(b"\nnonvoluntary_ctxt_switches:")
    try:
        fds = str(len(os.listdir(f"/proc/{pid}/fd")))
    except OSError:
        fds = "null"
    user, system = int(fields[11]) / procs.CLK_TCK, int(fields[12]) / procs.CLK_TCK
    rss = int(fields[21]) * procs.PAGE_SIZE
    uss = _uss(pid) if want_uss else None
    line = _LINE % (system, user,
                    int(status[j + 28:status.find(b"\n", j + 1)]) if j >= 0 else "null",
                    int(status[i + 25:status.find(b"\n", i + 1)]) if i >= 0 else "null",
                    fds, name, pid, int(fields[1]), rss, t, int(fields[17]),
                    "" if uss is None else f',"uss":{uss}')
    return line, user + system, rss


def read_psutil(pid: int, want_uss: bool, names: dict) -> tuple[str, float, int] | None:
    try:
        p = psutil.Process(pid)
        with p.oneshot():  # status() reads /proc/PID/stat, which oneshot() caches for cpu_times()
            t0 = time.time()
            if p.status() == psutil.STATUS_ZOMBIE:
                return None
            cpu = p.cpu_times()
            t = round((t0 + time.time()) / 2, 4)
            mem, ctx = p.memory_info(), p.num_ctx_switches()
            rec = {"t": t, "pid": pid, "ppid": p.ppid(), "name": p.name(),
                   "cpu_user_s": cpu.user, "cpu_system_s": cpu.system,
                   "rss": mem.rss, "threads": p.num_threads(), "fds": p.num_fds(),
                   "ctx_voluntary": ctx.voluntary, "ctx_involuntary": ctx.involuntary}
        if want_uss:
            rec["uss"] = p.memory_full_info().uss
    except psutil.Error:
        return None
    return dumps(rec) + "\n", cpu.user + cpu.system, mem.rss


def cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
    except OSError:
        try:
            return psutil.Process(pid).cmdline()
        except psutil.Error:
            return []
