"""memray in a heap session: attached to a live process (``--pid``, through gdb, or
where gdb cannot call functions through the injected probe: ``memray_probe``), or
checked once a launched server listens.

``--pid``: memray injects its tracker with gdb; the target then writes
``memray-<PID>.bin`` itself, so its own Python must be able to import memray. A
pre-fork server's master (gunicorn) has workers that already exist: memray's
``--follow-fork`` only covers children forked later, so each live Python worker is
attached too, each writing its own ``memray-<PID>.bin``. Tracking ends with
``memray detach`` of every attached process before the run stops.

Launched: the probe starts memray's tracker inside the target; :class:`MemrayCheck`
reads the probe's error records when the server listens, so a target whose Python
cannot import memray stops the run before the load, not after it.

Before it touches the user's process, gdb is tried on a throwaway Python process of our
own (:func:`pinkclinic.target.gdbcall.gdb_call_problem`): where gdb cannot call into a
process, pinkclinic says so and leaves the server alone.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

from pinkclinic import procs
from pinkclinic.collect import CollectorUnavailable
from pinkclinic.errors import PinkError
from pinkclinic.probe import probe_records
from pinkclinic.recording import Recording
from pinkclinic.session.collectors import Collector
from pinkclinic.target.gdbcall import gdb_call_problem
from pinkclinic.target.inject import INJECT_ENV, forced_method, without_gdb_problem
from pinkclinic.target.pyinfo import is_python

ATTACH_TIMEOUT_S = 60


def _memray_cli() -> list[str]:
    return [sys.executable, "-m", "memray"]


def _why(output: str) -> str:
    if "ModuleNotFoundError" in output or "No module named 'memray'" in output:
        return ("the target's Python cannot import memray: install it in the target's "
                "environment (pip install memray), or launch the server with pinkclinic heap -- CMD")
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    last = re.sub(r"\s+", " ", lines[-1]) if lines else "no output"
    return f"memray could not attach: {last[:200]}"


def attach_pids(pid: int) -> list[int]:
    """``pid`` (the topmost Python process), then every live Python process below it:
    the workers of a pre-fork server, which exist before memray attaches."""
    return [pid] + [p for p in procs.tree_pids(pid)[1:] if is_python(p)]


def preflight(pid: int) -> bool:
    """Refuse, in one line and before anything is recorded, when memray cannot be
    injected on this machine; ``pid`` is left alone. ``True`` when gdb cannot call
    functions here but the probe can get in (:mod:`pinkclinic.session.memray_probe`), or
    when ``PINKCLINIC_INJECT`` forces a way in other than gdb."""
    forced = forced_method()
    if forced in ("hypno", "remote_exec"):
        other = without_gdb_problem(pid)
        if other is None:
            return True
        raise PinkError(f"{INJECT_ENV}={forced}: the probe cannot get in to start memray "
                        f"({other[:160]}); PID {pid} was not touched")
    problem = ("gdb is not installed" if shutil.which("gdb") is None else
               gdb_call_problem())
    if problem is None:
        return False
    if forced == "gdb":
        raise PinkError(f"{INJECT_ENV}=gdb: memray cannot be injected ({problem[:160]}); "
                        f"PID {pid} was not touched")
    other = without_gdb_problem(pid)
    if other is None:
        return True
    if problem == "gdb is not installed":
        raise PinkError(f"pinkclinic heap --pid needs gdb to inject memray into the process "
                        f"({other}): install it (apt-get install gdb), or launch the server "
                        "with pinkclinic heap -- CMD")
    raise PinkError(f"gdb cannot call functions inside a process on this machine "
                    f"({problem[:160]}), and the probe cannot get in either ({other[:120]}), "
                    f"so memray cannot be injected; PID {pid} was not touched: launch the "
                    "server with pinkclinic heap -- CMD")


class MemrayAttach(Collector):
    name = "memray"
    start_when = "listening"
    stop_when = "before-stop"

    def __init__(self, *, native: bool = False, follow_fork: bool = False):
        super().__init__()
        self.native, self.follow_fork = native, follow_fork
        self.pids: list[int] = []

    def start(self, rec: Recording, target) -> None:
        """Attach to the Python process and each of its live workers (``preflight`` has
        already checked that gdb works here); on a failure, detach from all of them."""
        pids = attach_pids(target.python_pid() or target.pid)
        if not self.follow_fork and len(pids) > 1:  # --no-follow-fork: the analysis says so
            rec.update(untracked_workers=pids[1:])
            pids = pids[:1]
        for pid in pids:
            try:
                self._attach(rec, pid)
            except PinkError as e:
                self.stop(rec)
                which = f" (worker PID {pid} of {pids[0]})" if pid != pids[0] else ""
                raise PinkError(f"{e.message}{which}") from None

    def _attach(self, rec: Recording, pid: int) -> None:
        out = rec.file(f"memray-{pid}.bin")
        cmd = [*_memray_cli(), "attach", "-f", "-o", str(out), "--method", "gdb", str(pid)]
        cmd[5:5] = ["--native"] * self.native + ["--follow-fork"] * self.follow_fork
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=ATTACH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise PinkError(f"memray attach did not finish within {ATTACH_TIMEOUT_S}s") from None
        if proc.returncode != 0 or not out.exists():
            raise PinkError(_why(proc.stdout + proc.stderr))
        self.pids.append(pid)
        rec.register(f"memray-{pid}" if len(self.pids) > 1 else "memray", out.name,
                     format="memray", attached=True)

    def stop(self, rec: Recording) -> None:
        failed = []
        for pid in self.pids:
            proc = subprocess.run([*_memray_cli(), "detach", "--method", "gdb", str(pid)],
                                  capture_output=True, text=True, timeout=ATTACH_TIMEOUT_S)
            if proc.returncode != 0 and procs.is_alive(pid):
                failed.append(f"PID {pid}: {_why(proc.stdout + proc.stderr)}")
        self.pids = []
        if failed:
            raise CollectorUnavailable(f"memray detach failed: {'; '.join(failed)}", "heap")


def probe_memray_error(rec: Recording) -> str | None:
    """The one line to show when the probe could not start memray in the target."""
    for err in probe_records(rec.path).get("error", []):
        if err.get("feature") == "memray":
            return (f"the target's Python could not start memray ({err.get('message', '')}); "
                    "install memray in the target's environment (pip install memray)")
    return None


class MemrayCheck(Collector):
    """Launched targets: stop before the load when the probe could not start memray."""

    name = "memray-check"
    start_when = "listening"

    def start(self, rec: Recording, target) -> None:
        problem = probe_memray_error(rec)
        if problem is not None:
            raise PinkError(problem)

    def stop(self, rec: Recording) -> None:
        pass
