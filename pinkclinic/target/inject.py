"""Running the probe's start-up code inside a live CPython process (``--pid``).

Three ways in, tried in this order, each refused in one line when it cannot work:

- CPython 3.14+: ``sys.remote_exec(pid, script)``, run by the target's own
  executable; the target runs the script at its next safe point. (No 3.14 on the
  machines this was written on: this branch is untested.)
- hypno (PyPI; ptrace through pyinjector, no gdb): a small shared library is loaded
  into the target by one of its threads, whose constructor takes the GIL and runs the
  code there and then. That is only safe where the borrowed thread holds no lock (not
  the GIL, not malloc's), so the thread is borrowed only while it sits in a blocking
  call that CPython makes with the GIL released (:data:`SAFE_SYSCALLS`: epoll_wait,
  select, poll, accept, sleeps, waitpid): it is stopped, its system call is read from
  ``/proc`` *while stopped*, and it is let go untouched unless that call is a safe one.
  An idle server always sits there; a busy one passes through it between batches.
- gdb (``PyGILState_Ensure``, ``PyRun_SimpleString``), where gdb can call functions on
  this machine (:mod:`pinkclinic.target.gdbcall`).

``PINKCLINIC_INJECT`` (:data:`INJECT_ENV`) = ``remote_exec``, ``hypno`` or ``gdb`` forces
one way and no other (``auto``, or unset: the order above); a forced way that cannot work
is refused in one line, the others are not tried.

The injected code is one line that runs a script file: :func:`injected_line`.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import tempfile
import time

from pinkclinic.errors import UsageError
from pinkclinic.target import pyinfo
from pinkclinic.target.gdbcall import gdb_run_python

# System calls CPython makes with the GIL released (x86_64, aarch64 numbers).
SAFE_SYSCALLS = {
    "x86_64": {7: "poll", 23: "select", 35: "nanosleep", 43: "accept", 61: "wait4",
               230: "clock_nanosleep", 232: "epoll_wait", 270: "pselect6", 271: "ppoll",
               281: "epoll_pwait", 288: "accept4", 441: "epoll_pwait2"},
    "aarch64": {22: "epoll_pwait", 72: "pselect6", 73: "ppoll", 101: "nanosleep",
                115: "clock_nanosleep", 202: "accept", 242: "accept4", 260: "wait4",
                441: "epoll_pwait2"},
}.get(platform.machine(), {})
SAFE_POINT_TIMEOUT_S = 2.0
INJECT_ENV = "PINKCLINIC_INJECT"
METHODS = ("remote_exec", "hypno", "gdb")


class InjectionRefused(Exception):
    """The code could not be run in the process: ``str(e)`` is the one-line reason."""


def injected_line(script: str) -> str:
    """One statement that runs ``script`` in a namespace of its own (no name is left in
    the target's ``__main__``, no file left open)."""
    body = (f"with open({script!r}, 'rb') as f: s = f.read()\n"
            f"exec(compile(s, {script!r}, 'exec'), {{'__name__': '__pinkclinic_attach__'}})")
    return f"exec({body!r}, {{}})"


def forced_method() -> str | None:
    """The way in forced by ``PINKCLINIC_INJECT``, ``None`` for the usual order; a value
    that is not a way in is a usage error (checked before anything starts)."""
    value = os.environ.get(INJECT_ENV, "").strip()
    if value in ("", "auto"):
        return None
    if value not in METHODS:
        raise UsageError(f"{INJECT_ENV}={value!r} is not a way to inject the probe: "
                         f"use auto, {', '.join(METHODS)}")
    return value


def run_script(pid: int, script: str, timeout: float = SAFE_POINT_TIMEOUT_S) -> str:
    """Run the Python file ``script`` inside process ``pid``; returns the way used
    (``"remote_exec"``, ``"hypno"``, ``"gdb"``) or raises :class:`InjectionRefused`."""
    exe, parts = _target(pid)
    forced = forced_method()
    if forced == "remote_exec" or (forced is None and parts >= (3, 14)):
        if parts < (3, 14):
            raise InjectionRefused(f"{INJECT_ENV}=remote_exec: sys.remote_exec needs CPython "
                                   f"3.14+, and the process runs {'.'.join(map(str, parts))}")
        return _remote_exec(pid, exe, script)
    problem = None
    if forced in (None, "hypno"):
        problem = _hypno(pid, injected_line(script), timeout)
        if problem is None:
            return "hypno"
        if forced == "hypno":
            raise InjectionRefused(f"{INJECT_ENV}=hypno: {problem}")
        if problem.startswith("no thread"):  # a busy process: gdb would stop it anywhere
            raise InjectionRefused(problem)
    why_not_gdb = gdb_run_python(pid, injected_line(script))
    if why_not_gdb is None:
        return "gdb"
    raise InjectionRefused(f"{problem}; {why_not_gdb}" if problem else f"{INJECT_ENV}=gdb: {why_not_gdb}")


def _target(pid: int) -> tuple[str, tuple[int, ...]]:
    """The target's executable and (major, minor); refused when not CPython 3.8+."""
    exe = pyinfo.exe_of(pid) or ""
    if "pypy" in os.path.basename(exe):
        raise InjectionRefused("PyPy: code can be injected into CPython only")
    version = _version_from_name(exe) or pyinfo.python_version(pid)
    parts = tuple(int(p) for p in (version or "0.0").split(".")[:2])
    if parts < (3, 8):
        raise InjectionRefused(f"Python {version or '(unknown version)'}: the probe needs CPython 3.8+")
    return exe, parts


def without_gdb_problem(pid: int) -> str | None:
    """``None`` when a way in other than gdb may work for ``pid`` (``sys.remote_exec``,
    or hypno with ptrace allowed), else why not; ``pid`` is not touched."""
    try:
        _exe, parts = _target(pid)
    except InjectionRefused as e:
        return str(e)
    forced = forced_method()
    if forced == "gdb":
        return f"{INJECT_ENV}=gdb"
    if forced == "remote_exec" or (forced is None and parts >= (3, 14)):
        return None if parts >= (3, 14) else "sys.remote_exec needs CPython 3.14+"
    try:
        import hypno  # noqa: F401
    except ImportError:
        return "hypno is not installed"
    if os.geteuid() != 0 and _ptrace_scope() != "0":
        return f"ptrace is restricted (kernel.yama.ptrace_scope = {_ptrace_scope()})"
    return None


def _ptrace_scope() -> str:
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            return f.read().strip()
    except OSError:
        return "0"


def _version_from_name(exe: str) -> str | None:
    """``"3.11"`` from ``.../python3.11`` (what a venv's or pyenv's ``python`` resolves
    to): no need to start the target's interpreter, which takes a while on a busy machine."""
    m = re.match(r"^python(\d+\.\d+)$", os.path.basename(exe))
    return m.group(1) if m else None


def _remote_exec(pid: int, exe: str, script: str) -> str:
    code = "import sys; sys.remote_exec(int(sys.argv[1]), sys.argv[2])"
    try:
        proc = subprocess.run([exe, "-I", "-c", code, str(pid), script],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        raise InjectionRefused(f"sys.remote_exec failed: {e}") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise InjectionRefused(f"sys.remote_exec failed: {last[:200]}")
    return "remote_exec"


def syscall_of(pid: int, tid: int) -> int | None:
    """The system call thread ``tid`` is blocked in, or ``None`` (running, in user
    space, or unreadable)."""
    try:
        with open(f"/proc/{pid}/task/{tid}/syscall") as f:
            first = f.read().split(" ", 1)[0]
    except OSError:
        return None
    return int(first) if first.lstrip("-").isdigit() and int(first) >= 0 else None


def _tids(pid: int) -> list[int]:
    try:
        tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return []
    return sorted(tids, key=lambda t: t != pid)  # the main thread first


def _hypno(pid: int, line: str, timeout: float) -> str | None:
    """Inject ``line`` with hypno's library through pyinjector at a safe point; ``None``
    on success, else the reason."""
    try:
        from hypno.api import INJECTION_LIB_PATH, MAGIC
        from pyinjector import PyInjectorError
        from pyinjector import attach as ptrace_attach
    except ImportError:
        return "hypno is not installed"
    if not SAFE_SYSCALLS:
        return f"no list of safe system calls for {platform.machine()}"
    lib = INJECTION_LIB_PATH.read_bytes()
    at = lib.find(MAGIC) - 1
    code = line.encode()
    fd, path = tempfile.mkstemp(prefix="pinkclinic-inject-", suffix=".so")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(lib[:at] + code + b"\0" + lib[at + len(code) + 1:])
        os.chmod(path, 0o644)  # the target may run as another user
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for tid in _tids(pid):
                if syscall_of(pid, tid) not in SAFE_SYSCALLS:
                    continue
                try:
                    with ptrace_attach(tid) as injector:
                        if syscall_of(pid, tid) not in SAFE_SYSCALLS:  # it moved on
                            continue
                        injector.uninject(injector.inject(path.encode()))
                        return None
                except PyInjectorError as e:
                    return f"ptrace injection failed ({str(e).splitlines()[0][:160]})"
            time.sleep(0.001)
        return (f"no thread of PID {pid} reached a safe point (a blocking call with the GIL "
                f"released) within {timeout:g}s")
    finally:
        os.unlink(path)
