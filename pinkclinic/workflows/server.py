"""The server a suite, scenario or comparison runs against.

Either launched from a command (doctor's machinery: exec gate, parent-death
watchdog, port detection, the whole tree stopped at the end) and sampled with
psutil over its whole process tree, or a URL that is already served (sampled too
when its PID is given). ``measure()`` runs one load while watching the server:
if it dies, the load stops at once and the window says so.

    with ServerUnderTest(command=["python", "app.py"]) as srv:
        url = srv.start()
        window = srv.measure(lambda stop: run_spec(spec, stop=stop))
        window.cpu_percent, window.peak_rss, window.died
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pinkclinic import procs
from pinkclinic.errors import PinkError
from pinkclinic.exits import EXIT_USAGE

SAMPLE_INTERVAL_S = 0.02
# A window shorter than this gets its CPU % from two precise readings of the tree's CPU
# clocks around the load: the sampler's ticks (and /proc's 10 ms CPU ticks) are too coarse.
PRECISE_CPU_WINDOW_S = 0.5


@dataclass
class Window:
    """What one measured load did to the server."""

    value: Any = None  # what the load function returned
    cpu_percent: float | None = None
    peak_rss: int | None = None
    died: str | None = None  # how the server ended, if it did during the window

    def server_json(self) -> dict:
        """The server's figures over this window, as ``--json`` outputs carry them."""
        cpu = None if self.cpu_percent is None else round(self.cpu_percent, 1)
        return {"cpu_percent": cpu, "peak_rss": self.peak_rss, "died": self.died}


class ServerUnderTest:
    def __init__(self, command: list[str] | None = None, url: str | None = None, *,
                 pid: int | None = None, port: int | None = None, start_timeout: float = 30.0,
                 stop_timeout: float = 10.0, stop: threading.Event | None = None):
        if not command and not url:
            raise PinkError("give a server URL or a command to start (after --)", EXIT_USAGE)
        self.command = list(command) if command else None
        self.url = url
        self.pid = pid
        self.port = port
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.user_stop = stop or threading.Event()
        self.target = None
        self.sampler = None
        self.ending = None
        self._dir: str | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> ServerUnderTest:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def log_path(self) -> Path | None:
        return Path(self._dir, "server.log") if self._dir else None

    def start(self) -> str | None:
        """Launch (if a command), wait for the port, start sampling; return the base URL
        (``None`` if stopped by the user while waiting)."""
        from pinkclinic.collect.psutil_sampler import ProcessSampler
        from pinkclinic.target import launch

        if self.command:
            self._dir = tempfile.mkdtemp(prefix="pinkclinic-server-")
            self.target = launch(self.command, log_path=self.log_path, port=self.port)
            self.pid = self.target.pid
            self.sampler = ProcessSampler(self.pid, None, interval=SAMPLE_INTERVAL_S).start()
            listening = self.target.wait_listening(self.start_timeout, port=self.port,
                                                   stop=self.user_stop)
            if listening is None:
                return None
            if not self.url:
                self.url = listening.url
        elif self.pid is not None:
            self.sampler = ProcessSampler(self.pid, None, interval=SAMPLE_INTERVAL_S).start()
        return self.url

    def alive(self) -> bool:
        if self.target is None:  # a URL: its --pid, if given, tells
            return self.pid is None or procs.is_alive(self.pid)
        return self.target.poll() is None

    def died_how(self) -> str | None:
        """One line saying how the server ended on its own, or ``None``."""
        if self.target is None:
            return None if self.alive() else f"the server's process {self.pid} (--pid) is gone"
        ending = self.target.poll()
        if ending is None:
            return None
        from pinkclinic.target.base import last_line

        line = last_line(self.log_path)
        tail = f"; its last line: {line!r}" if line else ""
        return f"{ending.detail}{tail}"

    def close(self) -> None:
        """Stop the whole tree (if launched) and the sampler; idempotent."""
        try:
            if self.target is not None and self.ending is None:
                self.ending = self.target.stop(self.stop_timeout)
        finally:
            if self.sampler is not None:
                self.sampler.stop()
                self.sampler = None
            # the log is kept when the server ended on its own and wrote something: error
            # messages point at it; an empty one says nothing
            if self._dir is not None and (self.ending is None or self.ending.outcome == "stopped"
                                          or not _has_text(self.log_path)):
                shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    # -- one measured load ----------------------------------------------------------------
    def measure(self, load: Callable[[threading.Event], Any]) -> Window:
        """Run ``load(stop_event)``; the event is set if the server dies or the user stops."""
        stop = threading.Event()
        done = threading.Event()
        exited = self.target.exited if self.target is not None else None
        pid_gone = threading.Event()  # a URL's --pid that went away

        def watch() -> None:
            n = 0
            while not done.is_set():
                if self.user_stop.is_set() or (exited is not None and exited.is_set()):
                    stop.set()
                    return
                n += 1
                if exited is None and self.pid is not None and n % 5 == 0 \
                        and not procs.is_alive(self.pid):
                    pid_gone.set()
                    stop.set()
                    return
                done.wait(0.02)

        watcher = threading.Thread(target=watch, name="pinkclinic-server-watch", daemon=True)
        cpu0 = procs.tree_cpu_s(self.pid) if self.sampler is not None else 0.0
        t0 = time.time()
        watcher.start()
        try:
            value = load(stop)
        finally:
            done.set()
            watcher.join()
        t1 = time.time()
        w = Window(value)
        if self.sampler is not None:
            cpu1 = procs.tree_cpu_s(self.pid)
            # the load's own measured window (no connection set-up, no warm-up) if it has one
            start, dur = getattr(value, "start", None), getattr(value, "duration", 0) or 0
            a, b = (start, start + dur) if start and dur > 0.2 else (t0, t1)
            time.sleep(2 * SAMPLE_INTERVAL_S)  # let the sampler take the window's last tick
            if b - a < PRECISE_CPU_WINDOW_S and t1 > t0:
                w.cpu_percent = max(0.0, 100.0 * (cpu1 - cpu0) / (t1 - t0))
            else:
                w.cpu_percent = self.sampler.cpu_percent(a, b)
            w.peak_rss = self.sampler.peak_rss(a, b)
            if w.peak_rss is None:  # a window shorter than a tick: the ticks around it
                w.peak_rss = self.sampler.peak_rss(a - SAMPLE_INTERVAL_S, b + 2 * SAMPLE_INTERVAL_S)
        if self.target is not None and (not self.alive() or exited.wait(0.05)):
            w.died = self.died_how() or "the server exited"
        elif pid_gone.is_set() or (self.target is None and not self.alive()):
            w.died = self.died_how()
        return w


def _has_text(path: Path | None) -> bool:
    try:
        return path is not None and path.stat().st_size > 0
    except OSError:
        return False
