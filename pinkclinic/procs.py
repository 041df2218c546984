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
