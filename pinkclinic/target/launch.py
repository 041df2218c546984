"""Launching a target behind the exec gate, watching it, and stopping its whole tree.

    target = spawn(["uvicorn", "app:app"])          # PID known, nothing runs yet
    rec = Recording.create(dest, str(target.pid), "doctor", command=target.command)
    target.release(rec.file("target.log"), env=probe_env(rec.path))   # exec
    listening = target.wait_listening(30)
    ...
    ending = target.stop(10)                         # SIGINT -> SIGTERM -> SIGKILL

``launch(command, log_path=..., probe_env=...)`` does spawn + release in one call.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from pinkclinic import procs
from pinkclinic.target import ports
from pinkclinic.target.base import Target
from pinkclinic.target.ending import Ending, classify
from pinkclinic.target.gate import Gate
from pinkclinic.target.watchdog import Watchdog


class LaunchedTarget(Target):
    """A target pinkclinic started: its own session and process group (PGID == PID)."""

    def __init__(self, gate: Gate):
        super().__init__(gate.pid, gate.command)
        self._gate = gate
        self._proc = gate.proc
        self.launched: float | None = None
        self.exit_time: float | None = None
        self._exited = threading.Event()
        self._stop_lock = threading.Lock()
        self._stop_signal: int | None = None
        self._stop_time: float | None = None
        self.watchdog = Watchdog()
        self.watchdog.watch_group(self.pid)

    # -- start ----------------------------------------------------------------------------
    def release(self, log_path: str | os.PathLike, env: dict[str, str | None] | None = None) -> None:
        """Exec the command (stdout/stderr appended to ``log_path``, ``env`` added to
        ``os.environ``). Raises a one-line PinkError if the exec fails."""
        self.log_path = Path(log_path)
        try:
            self._gate.release(self.log_path, env)
        except BaseException:
            self._exited.set()
            self.ending = classify(self._proc.poll())
            self.watchdog.close()
            raise
        self.launched = time.time()
        threading.Thread(target=self._reap, name=f"pinkclinic-reap-{self.pid}",
                         daemon=True).start()

    def _reap(self) -> None:
        self._proc.wait()
        self.exit_time = time.time()
        self._exited.set()

    # -- state ----------------------------------------------------------------------------
    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._exited.is_set() else None

    def poll(self) -> Ending | None:
        if self.ending is not None:
            return self.ending
        if not self._exited.is_set():
            return None
        return classify(self._proc.returncode, stop_signal=self._stop_signal_before_exit())

    @property
    def exited(self) -> threading.Event:
        """Set as soon as the root process has exited (and been reaped)."""
        return self._exited

    def wait_exit(self, timeout: float | None = None) -> Ending | None:
        """Block until the root process exits (or ``timeout``); return :meth:`poll`."""
        self._exited.wait(timeout)
        return self.poll()

    def _stop_signal_before_exit(self) -> int | None:
        if self._stop_time is None or self.exit_time is None or self.exit_time < self._stop_time:
            return None
        return self._stop_signal

    # -- stop -----------------------------------------------------------------------------
    def _members(self) -> list[int]:
        return list(dict.fromkeys(procs.tree_pids(self.pid) + procs.group_pids(self.pid)))

    def _signal(self, sig: int, known: list[int]) -> list[int]:
        members = list(dict.fromkeys(known + self._members()))
        try:
            os.killpg(self.pid, signal.SIGCONT)
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        procs.signal_pids(members, sig)
        return members

    def _wait_gone(self, pids: list[int], timeout: float, hurry=None) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            root_done = self._exited.is_set() or not self._gate.released
            left = [p for p in pids if procs.is_alive(p)] + procs.group_pids(self.pid)
            if root_done and not left:
                return True
            if time.monotonic() >= deadline or (hurry is not None and hurry.is_set()):
                return False
            time.sleep(0.02)

    def stop(self, timeout: float = 10.0, hurry=None) -> Ending:
        """Stop the whole tree like a Ctrl-C, within about ``timeout`` seconds: SIGINT to the
        group and every descendant; SIGTERM after ``timeout`` minus the SIGTERM grace
        (:func:`term_grace`); SIGKILL at ``timeout``. Stopped processes get SIGCONT first.
        ``hurry`` (an Event, e.g. set by a second Ctrl-C) skips straight to SIGKILL. A tree
        whose root already ended has its leftovers cleaned up, and the ending says how the
        root ended. Idempotent."""
        with self._stop_lock:
            if self.ending is not None:
                return self.ending
            if not self._gate.released:
                self._gate.cancel()
                self._exited.set()
                self.ending = Ending("stopped", "the target was never started", None)
                self.watchdog.close()
                return self.ending
            known: list[int] = []
            if not procs.is_alive(self.pid):  # died just now: let the reaper record it first
                self._exited.wait(5.0)
            if not self._exited.is_set():
                self._stop_time = time.time()
                grace = term_grace(timeout)
                for sig, wait in ((signal.SIGINT, timeout - grace), (signal.SIGTERM, grace),
                                  (signal.SIGKILL, KILL_WAIT_S)):
                    if hurry is not None and hurry.is_set() and sig != signal.SIGKILL:
                        continue
                    self._stop_signal = sig
                    known = self._signal(sig, known)
                    if self._wait_gone(known, wait, None if sig == signal.SIGKILL else hurry):
                        break
            else:  # ended on its own: workers of a dead master may linger
                known = self._members()
                if known:
                    procs.signal_pids(known, signal.SIGTERM)
                    if not self._wait_gone(known, 2.0, hurry):
                        self._signal(signal.SIGKILL, known)
                        self._wait_gone(known, KILL_WAIT_S)
            self._exited.wait(5.0)
            self.ending = classify(self._proc.returncode,
                                   stop_signal=self._stop_signal_before_exit())
            self.watchdog.forget_group(self.pid)
            self.watchdog.close()
            return self.ending


KILL_WAIT_S = 2.0  # after SIGKILL: only the kernel's reaping is left


def term_grace(timeout: float) -> float:
    """The part of ``--stop-timeout`` left for SIGTERM after SIGINT: a third, at most 5 s."""
    return min(5.0, timeout / 3)


def spawn(command: list[str], *, cwd: str | os.PathLike | None = None,
          port: int | None = None) -> LaunchedTarget:
    """Start the exec gate for ``command``: the PID is known, nothing of the command runs
    until :meth:`LaunchedTarget.release`. ``port`` (``--port``) is checked to be free
    first. Raises a one-line PinkError if the command does not exist."""
    if port is not None:
        ports.check_port_free(port)
    return LaunchedTarget(Gate(command, cwd))


def launch(command: list[str], *, log_path: str | os.PathLike,
           probe_env: dict[str, str | None] | None = None,
           cwd: str | os.PathLike | None = None, port: int | None = None) -> LaunchedTarget:
    """:func:`spawn` and :meth:`~LaunchedTarget.release` in one call, for callers that
    know the log path without knowing the PID."""
    target = spawn(command, cwd=cwd, port=port)
    target.release(log_path, probe_env)
    return target
