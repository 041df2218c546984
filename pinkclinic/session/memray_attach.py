"""``pinkclinic heap --pid``: memray attached to a live process (through gdb).

memray injects its tracker with gdb; the target then writes ``memray-<PID>.bin``
itself, so its own Python must be able to import memray. Tracking ends with
``memray detach`` before the run stops.

Before it touches the user's process, gdb is tried on a throwaway Python process of our
own: on some machines gdb attaches but cannot call a function in the process (gdb 13 on
CPUs with AMX: "Couldn't write extended state status: Bad address"), and a failed call
leaves the process broken (its next system call fails with errno 516 and the server
dies). Then pinkclinic says so and leaves the server alone.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time

from pinkclinic.collect import CollectorUnavailable
from pinkclinic.errors import PinkError
from pinkclinic.recording import Recording
from pinkclinic.session.collector import Collector

ATTACH_TIMEOUT_S = 60
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


def _memray_cli() -> list[str]:
    return [sys.executable, "-m", "memray"]


def _why(output: str) -> str:
    if "ModuleNotFoundError" in output or "No module named 'memray'" in output:
        return ("the target's Python cannot import memray: install it in the target's "
                "environment (pip install memray), or launch the server with pinkclinic heap -- CMD")
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    last = re.sub(r"\s+", " ", lines[-1]) if lines else "no output"
    return f"memray could not attach: {last[:200]}"


class MemrayAttach(Collector):
    name = "memray"
    start_when = "listening"
    stop_when = "before-stop"

    def __init__(self, *, native: bool = False, follow_fork: bool = False):
        super().__init__()
        self.native, self.follow_fork = native, follow_fork
        self.pid: int | None = None

    def start(self, rec: Recording, target) -> None:
        if shutil.which("gdb") is None:
            raise PinkError("pinkclinic heap --pid needs gdb to inject memray into the process: "
                            "install it (apt-get install gdb), or launch the server with "
                            "pinkclinic heap -- CMD")
        pid = target.python_pid() or target.pid
        problem = gdb_call_problem()
        if problem is not None:
            raise PinkError(f"gdb cannot call functions inside a process on this machine "
                            f"({problem[:160]}), so memray cannot be injected; PID {pid} was "
                            "not touched: launch the server with pinkclinic heap -- CMD")
        out = rec.file(f"memray-{pid}.bin")
        cmd = [*_memray_cli(), "attach", "-f", "-o", str(out), "--method", "gdb", str(pid)]
        cmd[5:5] = ["--native"] * self.native + ["--follow-fork"] * self.follow_fork
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=ATTACH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise PinkError(f"memray attach did not finish within {ATTACH_TIMEOUT_S}s") from None
        if proc.returncode != 0 or not out.exists():
            raise PinkError(_why(proc.stdout + proc.stderr))
        self.pid = pid
        rec.register("memray", out.name, format="memray", attached=True)

    def stop(self, rec: Recording) -> None:
        if self.pid is None:
            return
        proc = subprocess.run([*_memray_cli(), "detach", "--method", "gdb", str(self.pid)],
                              capture_output=True, text=True, timeout=ATTACH_TIMEOUT_S)
        self.pid = None
        if proc.returncode != 0:
            raise CollectorUnavailable(f"memray detach failed: {_why(proc.stdout + proc.stderr)}",
                                       "heap")
