"""``--pid``: the in-process probe injected into every Python process of the tree, and
taken out again before the run stops.

Each process gets ``pinkclinic/bootstrap/pinkclinic_attach.py`` (with its
configuration) run inside it (:func:`pinkclinic.target.inject.run_script`); the probe
then writes ``probe-<PID>.jsonl`` into the recording like a launched run. At the end,
``probe-<PID>.detach`` asks it to remove itself, and its ``detached`` record says it
did. A process where injection is not possible keeps today's out-of-process signals,
with one line saying why (the analyses list what is then missing).
"""

from __future__ import annotations

import os
import tempfile
import time

from pinkclinic import procs
from pinkclinic.probe import probe_file, read_probe_file
from pinkclinic.recording import Recording
from pinkclinic.resources import BOOTSTRAP_DIR
from pinkclinic.session.collectors import Collector
from pinkclinic.target.inject import InjectionRefused, run_script
from pinkclinic.target.pyinfo import is_python

START_TIMEOUT_S = 3.0
DETACH_TIMEOUT_S = 5.0
MAX_ATTACHED_S = 24 * 3600  # the probe leaves by itself after this, whatever happens


def python_pids(root: int) -> list[int]:
    return [p for p in procs.tree_pids(root) if is_python(p)]


def attach_script(directory: str, features: list[str], options: dict) -> str:
    """The text run inside the target: its configuration, then the bootstrap's attach code."""
    config = {**options, "dir": os.path.abspath(directory), "features": list(features),
              "package": str(BOOTSTRAP_DIR / "pinkclinic_probe"), "owner": os.getpid(),
              "max_s": MAX_ATTACHED_S}
    body = (BOOTSTRAP_DIR / "pinkclinic_attach.py").read_text(encoding="utf-8")
    return f"CONFIG = {config!r}\n{body}"


def _records(rec: Recording, pid: int) -> list[dict]:
    path = rec.file(probe_file(pid))
    return read_probe_file(path)[1] if path.exists() else []


class InjectedProbe(Collector):
    name = "probe"
    start_when = "launched"
    stop_when = "before-stop"

    def __init__(self, features: list[str], options: dict | None = None):
        super().__init__()
        self.features, self.options = list(features), dict(options or {})
        self.pids: list[int] = []
        self.outcomes: dict[str, str] = {}  # PID -> what happened, for the manifest

    def start(self, rec: Recording, target) -> None:
        fd, script = tempfile.mkstemp(prefix="pinkclinic-attach-", suffix=".py")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(attach_script(str(rec.path), self.features, self.options))
            os.chmod(script, 0o644)  # the target may run as another user
            for pid in self.target_pids(rec, target):
                self._inject(rec, pid, script)
        except BaseException:  # Ctrl-C half-way: the probes already in leave now
            self.stop(rec)
            raise
        finally:
            os.unlink(script)
        rec.update(attach={"probe": self.outcomes})
        if self.pids:
            rec.mark("probe_attached")

    def target_pids(self, rec: Recording, target) -> list[int]:
        """The processes to inject: every Python process of the tree."""
        return python_pids(target.pid)

    def _inject(self, rec: Recording, pid: int, script: str) -> None:
        t0 = time.monotonic()
        try:
            via = run_script(pid, script)
        except InjectionRefused as e:
            return self._refused(pid, str(e))
        rec.file(probe_file(pid, "injected")).touch()  # the thread is let go: the probe may install
        err = rec.file(f"attach-{pid}.err")
        while time.monotonic() - t0 < START_TIMEOUT_S:
            if err.exists():
                rec.file(probe_file(pid, "injected")).unlink(missing_ok=True)
                return self._refused(pid, err.read_text(errors="replace").strip())
            if any(r.get("type") == "attached" for r in _records(rec, pid)):
                self.pids.append(pid)
                self.outcomes[str(pid)] = f"attached ({via}, {time.monotonic() - t0:.2f} s)"
                return None
            time.sleep(0.02)
        rec.file(probe_file(pid, "injected")).unlink(missing_ok=True)
        return self._refused(pid, f"the code injected ({via}) did not start the probe within "
                                  f"{START_TIMEOUT_S:g}s (may the process's user write to "
                                  f"{rec.path}?)")

    def signals(self) -> list[str]:
        """The in-process signals this probe would have given (the refusal line names them)."""
        names = {"gc": ["gc"], "loop": ["loop-lag"], "memray": ["heap"],
                 "tasks": ["tasks", "waits"] if self.options.get("waits_ms") else ["tasks"]}
        return [s for f in self.features for s in names.get(f, [])]

    def _refused(self, pid: int, why: str) -> None:
        self.outcomes[str(pid)] = f"refused: {why}"
        signals = self.signals() or ["in-process"]
        listed = " or ".join(x for x in (", ".join(signals[:-1]), signals[-1]) if x)
        self.notes.append(f"PID {pid}: probe not injected, so no {listed} signals from it: {why}")

    def stop(self, rec: Recording) -> None:
        for pid in self.pids:
            rec.file(probe_file(pid, "detach")).touch()
        deadline = time.monotonic() + DETACH_TIMEOUT_S
        left = list(self.pids)
        while left and time.monotonic() < deadline:
            left = [p for p in left if procs.is_alive(p)
                    and not any(r.get("type") == "detached" for r in _records(rec, p))]
            if left:
                time.sleep(0.05)
        for pid in self.pids:
            rec.file(probe_file(pid, "detach")).unlink(missing_ok=True)
            rec.file(probe_file(pid, "injected")).unlink(missing_ok=True)
            if pid in left:
                self.notes.append(f"PID {pid}: the probe did not confirm its removal within "
                                  f"{DETACH_TIMEOUT_S:g}s")
            self.outcomes[str(pid)] += ("; removal not confirmed" if pid in left
                                        else "; removed after the run")
        if self.pids:
            rec.update(attach={"probe": self.outcomes})
            rec.mark("probe_detached")
        self.pids = []
