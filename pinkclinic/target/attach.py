"""Attaching to a running server (``--pid``): validate, wrap, and never stop it."""

from __future__ import annotations

import os

import psutil

from pinkclinic import procs
from pinkclinic.errors import PinkError, UsageError
from pinkclinic.target import pyinfo
from pinkclinic.target.base import Target
from pinkclinic.target.ending import Ending

PTRACE_HINT = ("run pinkclinic as the same user as the target or as root; in Docker add "
               "--cap-add SYS_PTRACE; see /proc/sys/kernel/yama/ptrace_scope")


def _describe(p: psutil.Process) -> str:
    try:
        return f"PID {p.pid} ({p.name()})"
    except psutil.Error:
        return f"PID {p.pid}"


def check_ptrace(pid: int, what: str) -> None:
    """Raise a one-line PinkError unless this process may read ``pid``'s memory, which is
    what py-spy needs (the kernel applies the ptrace-attach check, Yama included)."""
    try:
        with open(f"/proc/{pid}/mem", "rb"):
            pass
    except FileNotFoundError:
        raise PinkError(f"{what} is gone") from None
    except PermissionError:
        owner = ""
        try:
            owner = f", owned by {psutil.Process(pid).username()}"
        except (psutil.Error, KeyError):
            pass
        raise PinkError(f"not permitted to inspect {what}{owner}: ptrace is blocked; "
                        f"{PTRACE_HINT}") from None


class AttachedTarget(Target):
    """A process pinkclinic did not start: it is observed, never signalled."""

    attached = True

    def __init__(self, pid: int, python_pid: int):
        super().__init__(pid)
        self._python_pid = python_pid
        try:
            self.command = psutil.Process(pid).cmdline()
        except psutil.Error:
            self.command = None

    def poll(self) -> Ending | None:
        if self.ending is not None:
            return self.ending
        if procs.is_alive(self.pid):
            return None
        return Ending("exited", "the attached process exited (its exit code is not visible "
                      "to pinkclinic)")

    def stop(self, timeout: float = 10.0, hurry=None) -> Ending:
        """Detach: the process is left running (or its exit is recorded)."""
        if self.ending is None:
            self.ending = self.poll() or Ending("detached", "attached process left running")
        return self.ending


def attach(pid: int) -> AttachedTarget:
    """Validate and wrap a live process and its tree. One-line PinkError if the PID is
    gone, a zombie, not permitted, or neither it nor a child runs Python."""
    if pid <= 0:
        raise UsageError(f"--pid must be a positive process id, not {pid}")
    if pid == os.getpid():
        raise UsageError("--pid names pinkclinic itself")
    try:
        p = psutil.Process(pid)
        status = p.status()
    except psutil.NoSuchProcess:
        raise PinkError(f"no process with PID {pid}: it is gone (or never existed)") from None
    except psutil.AccessDenied:
        raise PinkError(f"not permitted to inspect PID {pid}; {PTRACE_HINT}") from None
    what = _describe(p)
    if status == psutil.STATUS_ZOMBIE:
        raise PinkError(f"{what} is a zombie: it has exited and only waits for its parent "
                        "to collect its exit status")
    check_ptrace(pid, what)
    python_pid = pyinfo.topmost_python(pid)
    if python_pid is None:
        raise PinkError(f"{what} is not a Python process, and none of its children is")
    if python_pid != pid:
        check_ptrace(python_pid, _describe(psutil.Process(python_pid)))
    return AttachedTarget(pid, python_pid)
