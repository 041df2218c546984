"""What launched and attached targets share: the tree, the port wait, the manifest entry."""

from __future__ import annotations

import os
import time
from pathlib import Path

from pinkclinic import procs
from pinkclinic.errors import PinkError
from pinkclinic.target import ports, pyinfo
from pinkclinic.target.ending import Ending


def last_line(path: Path | None, limit: int = 200) -> str | None:
    """The last non-empty line of a log file (one line, at most ``limit`` characters)."""
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 8192))
            tail = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    lines = [ln.strip() for ln in tail.splitlines() if ln.strip()]
    if not lines:
        return None
    line = " ".join(lines[-1].split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def log_tail(path: Path | None, size: int = 16384) -> str:
    if path is None:
        return ""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - size))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


class Target:
    """A server process tree under observation. See :class:`LaunchedTarget` and
    :class:`AttachedTarget`."""

    attached = False

    def __init__(self, pid: int, command: list[str] | None = None, log_path: Path | None = None):
        self.pid = pid
        self.command = command
        self.log_path = log_path
        self.listening: ports.Listening | None = None
        self.ending: Ending | None = None
        self._python: tuple[int, str | None] | None = None

    # -- to be provided by subclasses ---------------------------------------------------
    def poll(self) -> Ending | None:
        """``None`` while the target's root process runs; how it ended otherwise."""
        raise NotImplementedError

    def stop(self, timeout: float = 10.0, hurry=None) -> Ending:
        """Stop (or detach from) the target; ``hurry``, an Event, cuts the waits short."""
        raise NotImplementedError

    @property
    def returncode(self) -> int | None:
        return None

    # -- shared -----------------------------------------------------------------------
    def tree(self) -> list[int]:
        """The root and its live descendants, parents first."""
        return procs.tree_pids(self.pid)

    def python_pid(self) -> int | None:
        """The topmost Python process of the tree (where py-spy attaches)."""
        return pyinfo.topmost_python(self.pid)

    def python_version(self) -> str | None:
        if self._python is None:
            pid = self.python_pid()
            if pid is None:
                return None
            self._python = (pid, pyinfo.python_version(pid))
        return self._python[1]

    def manifest_target(self) -> dict:
        """The manifest's ``target`` object."""
        return {"pid": self.pid, "attached": self.attached,
                "port": self.listening.port if self.listening else None,
                "url": self.listening.url if self.listening else None,
                "python": self.python_version(), "returncode": self.returncode}

    def wait_listening(self, timeout: float = 30.0, *, port: int | None = None,
                       probe_dir: str | os.PathLike | None = None,
                       poll: float = 0.05, stop=None) -> ports.Listening | None:
        """Wait until the tree listens on a port that answers HTTP; return it.

        ``port`` skips detection but still waits for that port to answer. ``probe_dir``
        adds the probe's ``listen`` records to psutil's sockets. Raises a one-line
        :class:`PinkError` if the target exits first, reports EADDRINUSE, or
        ``timeout`` passes. Returns ``None`` as soon as ``stop`` (an Event) is set."""
        deadline = time.monotonic() + timeout
        seen: list[tuple[str, int]] = []
        while True:
            if stop is not None and stop.is_set():
                return None
            ending = self.poll()
            if ending is not None:
                raise self._exited_early(ending)
            sockets = ports.listen_sockets(self.tree())
            if port is not None:
                cands = [(ip, p) for ip, p in sockets if p == port] or [("127.0.0.1", port)]
            else:
                cands = ports.probe_listens(probe_dir) + sockets
            cands = list(dict.fromkeys((ports.connect_host(ip), p) for ip, p in cands))
            seen = list(dict.fromkeys(seen + cands))
            for host, p in cands:
                left = deadline - time.monotonic()
                if ports.http_answers(host, p, timeout=max(0.2, min(1.0, left))):
                    self.listening = ports.Listening(host, p, seen)
                    return self.listening
            if not sockets:
                in_use = ports.port_in_use_line(log_tail(self.log_path))
                if in_use is not None:
                    raise self._in_use(*in_use)
            if time.monotonic() >= deadline:
                raise self._timed_out(timeout, port, sockets)
            time.sleep(poll)

    # -- messages -------------------------------------------------------------------------
    def _log_hint(self) -> str:
        line = last_line(self.log_path)
        if self.log_path is None:
            return ""
        if line is None:
            return "; it printed nothing"
        return f"; last line of {self.log_path}: {line!r}"

    def _in_use(self, line: str, port: int | None) -> PinkError:
        what = f"port {port}" if port else "its port"
        return PinkError(f"the target could not listen: {what} is already in use ({line!r}); "
                         "stop what listens there or choose another port")

    def _exited_early(self, ending: Ending) -> PinkError:
        in_use = ports.port_in_use_line(log_tail(self.log_path))
        if in_use is not None:
            return self._in_use(*in_use)
        if ending.signal:
            what = f"was killed by {ending.signal}"
        elif ending.returncode is None:
            what = "exited"
        else:
            what = f"exited with code {ending.returncode}"
        return PinkError(f"the target {what} before listening on a port{self._log_hint()}")

    def _timed_out(self, timeout: float, port: int | None, sockets) -> PinkError:
        listening = sorted({p for _, p in sockets})
        if port is not None:
            extra = f" (it listens on {', '.join(map(str, listening))})" if listening else ""
            msg = f"nothing answered HTTP on port {port} within {timeout:g}s{extra}"
        elif listening:
            msg = (f"the target listens on port {', '.join(map(str, listening))} but did not "
                   f"answer HTTP within {timeout:g}s")
        else:
            msg = f"the target did not listen on any port within {timeout:g}s"
        return PinkError(f"{msg} (--start-timeout){self._log_hint()}")
