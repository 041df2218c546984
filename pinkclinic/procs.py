"""Process helpers shared by every command: child-death signals and tree teardown.

Rule: no child outlives pinkclinic. Children we spawn get a parent-death
signal (``PR_SET_PDEATHSIG``), so even a ``kill -9`` of pinkclinic reaches
them; everything we launch is stopped as a whole tree.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time

import psutil

_PR_SET_PDEATHSIG = 1


def pdeathsig_preexec(sig: int = signal.SIGTERM, parent_pid: int | None = None):
    """A ``preexec_fn`` that asks the kernel to send ``sig`` when our thread dies.

    The signal fires when the *thread* that forked the child exits, so only
    spawn from the main thread or from a thread that lives as long as the child.
    """
    parent = os.getpid() if parent_pid is None else parent_pid

    def preexec() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        except (OSError, AttributeError):  # not Linux: best effort
            return
        if os.getppid() != parent:  # parent died before prctl took effect
            os.kill(os.getpid(), sig)

    return preexec


def process_tree(pid: int) -> list[psutil.Process]:
    """``pid`` and all its descendants that still exist (parent first)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def kill_tree(pid: int, *, sig: int = signal.SIGTERM, timeout: float = 5.0,
              include_root: bool = True) -> list[int]:
    """Send ``sig`` to a process tree, wait up to ``timeout``, then SIGKILL survivors.

    Returns the PIDs that had to be killed with SIGKILL. Stopped processes are
    continued first, so a SIGTERM is not left pending forever.
    """
    procs = process_tree(pid)
    if not include_root:
        procs = procs[1:]
    for p in procs:
        try:
            if p.status() == psutil.STATUS_STOPPED:
                p.send_signal(signal.SIGCONT)
            p.send_signal(sig)
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    killed = []
    for p in alive:
        try:
            p.kill()
            killed.append(p.pid)
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=2)
    return killed


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    """Wait until none of ``pids`` exists (zombies count as gone); return survivors."""
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if _exists(p)]
        if alive:
            time.sleep(0.02)
    return [p for p in alive if _exists(p)]


def _exists(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


# -- cheap /proc readers (Linux); the sampler and the watchdog call these often ---------------
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
HAVE_PROC = os.path.isdir("/proc/self/task")


def stat_fields(pid: int) -> list[str] | None:
    """``/proc/PID/stat`` split after the command name: index 0 is the state, 1 the ppid,
    2 the pgid, 11/12 utime/stime (ticks), 17 threads, 19 starttime, 21 rss (pages).
    ``None`` if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return data[data.rfind(b")") + 2:].decode("ascii", "replace").split()


def children_of(pid: int) -> list[int]:
    """Direct children of ``pid`` (all its threads' children); [] if it is gone."""
    if not HAVE_PROC:
        try:
            return [c.pid for c in psutil.Process(pid).children()]
        except psutil.Error:
            return []
    out: list[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                out.extend(int(c) for c in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return out


def tree_pids(root: int) -> list[int]:
    """``root`` (if alive) and its descendants, parents before children. Much cheaper than
    ``psutil.Process.children(recursive=True)``, which reads every process on the machine."""
    out, todo, seen = [], [root], set()
    while todo:
        pid = todo.pop(0)
        if pid in seen:
            continue
        seen.add(pid)
        if not is_alive(pid):  # zombies are gone for our purposes
            continue
        out.append(pid)
        todo.extend(children_of(pid))
    return out


def process_cpu_s(pid: int) -> float | None:
    """CPU seconds ``pid`` has used (all its threads, live and ended), to the nanosecond:
    its kernel CPU clock where it can be read, else the 10 ms ticks of ``cpu_times``."""
    try:
        return time.clock_gettime((~pid << 3) | 2)  # CPUCLOCK_SCHED of the process
    except (OSError, AttributeError, OverflowError):
        try:
            t = psutil.Process(pid).cpu_times()
            return t.user + t.system
        except psutil.Error:
            return None


def thread_wakeups(pid: int, prefix: str = "") -> int:
    """Voluntary context switches (each a sleep that ended: a wake-up) of ``pid``'s live
    threads whose OS name starts with ``prefix``, summed; 0 for a process that is gone."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tids:
        try:
            if prefix:
                with open(f"/proc/{pid}/task/{tid}/comm") as f:
                    if not f.read().startswith(prefix):
                        continue
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                total += next(int(line.split()[1]) for line in f
                              if line.startswith("voluntary_ctxt_switches"))
        except (OSError, StopIteration):
            continue
    return total


def tree_cpu_s(root: int) -> float:
    """CPU seconds used by ``root`` and its live descendants (a precise reading, for
    windows too short for a sampler's ticks)."""
    return sum(c for c in map(process_cpu_s, tree_pids(root)) if c is not None)


def group_pids(pgid: int) -> list[int]:
    """Live processes whose process group is ``pgid`` (they survive their leader)."""
    out = []
    for entry in os.listdir("/proc") if HAVE_PROC else []:
        if entry.isdigit():
            f = stat_fields(int(entry))
            if f and f[0] not in ("Z", "X") and f[2] == str(pgid):
                out.append(int(entry))
    return out


def is_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    if HAVE_PROC:
        f = stat_fields(pid)
        return f is not None and f[0] not in ("Z", "X")
    return _exists(pid)


def signal_pids(pids: list[int], sig: int, *, cont: bool = True) -> None:
    """Send ``sig`` to each pid, continuing stopped ones first; gone ones are skipped."""
    for pid in pids:
        try:
            if cont:
                os.kill(pid, signal.SIGCONT)
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
