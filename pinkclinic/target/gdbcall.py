"""Calling functions inside a live process with gdb: the check that it works on this
machine, and running Python source in a CPython process that way.

On some machines gdb attaches but cannot call a function in the process (gdb 13 on
CPUs with AMX: "Couldn't write extended state status: Bad address"), and a failed call
leaves the process broken (its next system call fails with errno 516 and the server
dies). So :func:`gdb_call_problem` first tries a call on a throwaway Python process of
our own, and nothing is called in the user's process unless that worked.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sys
import time

PROBE_TIMEOUT_S = 30


def gdb_call_problem() -> str | None:
    """``None`` if gdb can call a function inside a (throwaway) process on this machine;
    otherwise gdb's own words for why not."""
    victim = subprocess.Popen([sys.executable, "-S", "-c", "import time; time.sleep(60)"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.05)  # let it reach its sleep
        try:
            proc = subprocess.run(["gdb", "-p", str(victim.pid), "-batch", "-nx", "-q",
                                   "-ex", "call (int)getpid()"],
                                  capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return f"gdb did not finish a test call within {PROBE_TIMEOUT_S}s"
        out = proc.stdout + proc.stderr
        if re.search(rf"^\$1 = {victim.pid}$", out, re.M) and victim.poll() is None:
            return None
        lines = [ln.strip() for ln in out.splitlines()
                 if re.search(r"error|couldn't|cannot|denied|not permitted", ln, re.I)]
        return lines[-1] if lines else "the test process did not survive the call"
    finally:
        victim.kill()
        victim.wait()


@functools.lru_cache(maxsize=1)
def gdb_problem_cached() -> str | None:
    """:func:`gdb_call_problem` once per pinkclinic run, with "no gdb" as a problem."""
    if shutil.which("gdb") is None:
        return "gdb is not installed"
    return gdb_call_problem()


def gdb_run_python(pid: int, source: str, timeout: float = 30.0) -> str | None:
    """Run ``source`` in CPython process ``pid`` (GIL taken, then given back) through
    gdb; ``None`` on success, else one line saying why not."""
    problem = gdb_problem_cached()
    if problem == "gdb is not installed":
        return problem
    if problem is not None:
        return f"gdb cannot call functions here ({problem[:160]})"
    literal = source.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    cmd = ["gdb", "-p", str(pid), "-batch", "-nx", "-q",
           "-ex", "call (int)PyGILState_Ensure()",
           "-ex", f'call (int)PyRun_SimpleString("{literal}")',
           "-ex", "call (void)PyGILState_Release($1)"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"gdb did not finish within {timeout:g}s"
    out = proc.stdout + proc.stderr
    if re.search(r"^\$2 = 0$", out, re.M):
        return None
    lines = [ln.strip() for ln in out.splitlines() if re.search(r"error|couldn't|cannot", ln, re.I)]
    return f"gdb: {lines[-1][:160]}" if lines else "gdb could not run the probe's code"
