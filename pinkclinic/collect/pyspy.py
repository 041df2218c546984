"""py-spy over the target's tree, written as speedscope (``pyspy.speedscope.json``).

    spy = PySpy(target.pid, rec.file("pyspy.speedscope.json"), watchdog=target.watchdog)
    spy.start()              # waits until py-spy really samples; CollectorUnavailable if not
    spy.register(rec)        # manifest streams.pyspy, with the wall-clock start
    ...
    spy.stop()               # SIGINT: py-spy writes the file; the target is left alone

* It attaches to the topmost *Python* process of the tree: the launched PID may be a
  shell, a pyenv shim or ``uv run``, on which py-spy fails ("Failed to find python
  version"). While the interpreter is still loading it retries.
* It stops waiting once waiting cannot help: the tree already listens on a socket yet
  none of its processes is Python (a server in another language), or py-spy, started
  on a Python process of a tree that already listened, exits saying it finds no
  interpreter (py-spy 0.4 has no exit code for that: 1 and the line "No python
  processes found in process N or any of its subprocesses" with ``--subprocesses``,
  "Failed to find python version from target process" without, each after its own
  retries for about a second). A server still importing does not listen yet.
* "Really started" is py-spy's own "Sampling process ..." line, printed once it has
  read the interpreter's state; ``started`` is the wall-clock time of that line (the
  speedscope samples are relative, 1/rate s apart).
* py-spy runs in its own session with SIGINT as its parent-death signal, so a
  ``kill -9`` of pinkclinic still gets the file written; the watchdog SIGINTs it too.
  The parent-death signal fires when the *thread* that called :meth:`start` exits, so
  call it from a thread that lives as long as the run.
* It is only SIGKILLed if it hangs after SIGINT; the target tree gets SIGCONT afterwards
  in any case (a py-spy killed mid-sample can leave its target stopped).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from pinkclinic import procs, redact
from pinkclinic.collect import CollectorUnavailable
from pinkclinic.target.ports import listen_sockets
from pinkclinic.target.pyinfo import topmost_python

SIGNAL = "stacks"  # what diagnosis.signals_missing says when py-spy cannot run
_STARTED = b"Sampling process"
# py-spy's lines for "no interpreter there (yet)": retried while the tree does not listen
_NO_INTERPRETER = re.compile(rb"Failed to find python version|No python processes found|"
                             rb"Failed to find a python interpreter", re.I)
_RETRY = re.compile(_NO_INTERPRETER.pattern + rb"|Failed to get process executable|"
                    rb"No such file or directory|failed to read|Failed to copy", re.I)
# a tree that listens without a Python process is given this long for a Python child to
# appear (a wrapper that binds the socket and hands it to the Python it then starts)
LISTENING_GRACE_S = 0.5
_DENIED = re.compile(rb"Permission denied|Operation not permitted|os error 1\b|os error 13\b", re.I)
_STILL_ATTACHING = "py-spy was still attaching"
_SUMMARY = re.compile(rb"Samples: (\d+) Errors: (\d+)")


def find_pyspy() -> str | None:
    """py-spy next to this interpreter (a venv's bin/), else on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("py-spy")


def _error_line(log: bytes) -> str:
    lines = [ln.strip() for ln in log.decode("utf-8", "replace").splitlines() if ln.strip()]
    for ln in lines:
        if ln.startswith("Error:"):
            return ln
    return lines[-1] if lines else "no output"


def _denied(pid: int) -> CollectorUnavailable:
    return CollectorUnavailable(
        f"py-spy is not permitted to read PID {pid} (ptrace blocked): run as the target's "
        "user or root; in Docker add --cap-add SYS_PTRACE; stack samples are missing", SIGNAL)


class PySpy:
    def __init__(self, root_pid: int, out_path: str | os.PathLike, *, rate_hz: int = 100,
                 subprocesses: bool = True, native: bool = False, idle: bool = True,
                 log_path: str | os.PathLike | None = None, watchdog=None,
                 executable: str | None = None, nonblocking: bool = False):
        self.root_pid = root_pid
        self.out_path = Path(out_path)
        self.log_path = Path(log_path) if log_path else self.out_path.with_name("pyspy.log")
        self.rate_hz, self.subprocesses, self.native, self.idle = rate_hz, subprocesses, native, idle
        # --nonblocking: read the target's memory while it runs. Blocking mode stops every
        # thread per sample; on a busy 2-core box that cut a 9-thread gunicorn from 15.6
        # to 4.0 req/s, while nonblocking lost < 0.5% of samples to torn reads. py-spy
        # refuses --native with --nonblocking (it must stop a thread to unwind its C
        # stack), so --native always samples in blocking mode.
        self.nonblocking = nonblocking and not native
        self.watchdog = watchdog
        self.executable = executable
        self.pid: int | None = None  # the Python process py-spy samples
        self.started: float | None = None
        self.attempts = 0
        self.result: dict | None = None
        self._proc: subprocess.Popen | None = None

    def argv(self, exe: str, pid: int) -> list[str]:
        argv = [exe, "record", "--pid", str(pid), "--threads", "--full-filenames",
                "--format", "speedscope", "-r", str(self.rate_hz), "-o", str(self.out_path)]
        argv += ["--idle"] * self.idle + ["--subprocesses"] * self.subprocesses
        argv += ["--nonblocking"] * self.nonblocking
        return argv + ["--native"] * self.native

    def start(self, timeout: float = 10.0) -> float:
        """Start py-spy and wait until it samples; return the wall-clock start time.
        Raises :class:`CollectorUnavailable` (``signal == "stacks"``) if it cannot."""
        exe = self.executable or find_pyspy()
        if exe is None:
            raise CollectorUnavailable("py-spy is not installed (pip install py-spy); "
                                       "stack samples are missing", SIGNAL)
        if not os.access(exe, os.X_OK):
            raise CollectorUnavailable(f"py-spy is not installed at {exe}; "
                                       "stack samples are missing", SIGNAL)
        try:  # the kernel's ptrace-attach check (Yama included), before anything else
            open(f"/proc/{self.root_pid}/mem", "rb").close()
        except PermissionError:
            raise _denied(self.root_pid) from None
        except OSError:
            pass
        deadline = time.monotonic() + timeout
        last = "no Python process found in the target's tree"
        bare_since: float | None = None  # since when the tree listens without Python
        while time.monotonic() < deadline:
            pid = topmost_python(self.root_pid)
            if pid is None:
                if not procs.is_alive(self.root_pid) and not procs.tree_pids(self.root_pid):
                    raise CollectorUnavailable("the target exited before py-spy could attach; "
                                               "stack samples are missing", SIGNAL)
                port = self._listening_port()
                if port is None:
                    bare_since = None
                elif bare_since is None:
                    bare_since = time.monotonic()
                elif time.monotonic() - bare_since >= LISTENING_GRACE_S:
                    raise CollectorUnavailable(
                        f"no Python process found in the target's tree, which listens on port "
                        f"{port}: py-spy samples Python only; stack samples are missing", SIGNAL)
                time.sleep(0.02)
                continue
            self.pid = pid
            self.attempts += 1
            listened = self._listening_port() is not None
            outcome = self._attempt(exe, pid, deadline, listened=listened)
            if outcome is None:
                return self.started  # type: ignore[return-value]
            if outcome != _STILL_ATTACHING or self.attempts == 1:
                last = outcome  # keep py-spy's own error over a cut-short last attempt
            time.sleep(0.1)
        raise CollectorUnavailable(f"py-spy did not start sampling within {timeout:g}s "
                                   f"({last}); stack samples are missing", SIGNAL)

    def _listening_port(self) -> int | None:
        """A port the target's tree listens on, or ``None``."""
        found = listen_sockets(procs.tree_pids(self.root_pid))
        return found[0][1] if found else None

    def _attempt(self, exe: str, pid: int, deadline: float, *, listened: bool = False) -> str | None:
        """One py-spy start: ``None`` once it samples, or the reason it should be retried.
        ``listened``: the tree listened before py-spy started, so a live Python process
        in which py-spy finds no interpreter will not grow one: that is final."""
        with open(self.log_path, "wb") as log:
            self._proc = subprocess.Popen(
                self.argv(exe, pid), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True, close_fds=True,
                preexec_fn=procs.pdeathsig_preexec(signal.SIGINT))
        if self.watchdog is not None:
            self.watchdog.watch_collector(self._proc.pid)
        while True:
            data = self.log_path.read_bytes()
            if _STARTED in data:
                self.started = time.time()
                return None
            if self._proc.poll() is not None:
                self._forget()
                data = self.log_path.read_bytes()
                if _DENIED.search(data):
                    raise _denied(pid)
                alive = procs.is_alive(pid)
                if alive and listened and _NO_INTERPRETER.search(data):
                    raise CollectorUnavailable(
                        f"py-spy finds no Python interpreter in PID {pid} although its tree "
                        f"already listens: {_error_line(data)}; stack samples are missing", SIGNAL)
                if _RETRY.search(data) or not alive:
                    return _error_line(data)
                raise CollectorUnavailable(f"py-spy could not sample PID {pid}: "
                                           f"{_error_line(data)}; stack samples are missing", SIGNAL)
            if time.monotonic() >= deadline:
                self._halt(2.0)
                return _STILL_ATTACHING
            time.sleep(0.01)

    def _forget(self) -> None:
        if self.watchdog is not None and self._proc is not None:
            self.watchdog.forget_collector(self._proc.pid)

    def _halt(self, timeout: float) -> bool:
        """SIGINT py-spy and wait; SIGKILL only if it hangs. True if it had to be killed."""
        proc = self._proc
        hung = False
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                hung = True
                proc.kill()
                proc.wait()
        procs.signal_pids(procs.tree_pids(self.root_pid), signal.SIGCONT, cont=False)
        self._forget()
        return hung

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout: float = 10.0) -> dict:
        """Stop sampling (SIGINT; py-spy writes the file). Returns what happened:
        ``file``, ``bytes``, ``samples``, ``errors``, ``returncode``, ``hung``."""
        if self.result is not None:
            return self.result
        hung = self._halt(timeout)
        _redact_process_names(self.out_path)
        log = self.log_path.read_bytes() if self.log_path.exists() else b""
        m = _SUMMARY.search(log)
        self.result = {"file": str(self.out_path),
                       "bytes": self.out_path.stat().st_size if self.out_path.exists() else 0,
                       "samples": int(m.group(1)) if m else None,
                       "errors": int(m.group(2)) if m else None,
                       "returncode": self._proc.returncode if self._proc else None, "hung": hung}
        return self.result

    def manifest_entry(self) -> dict:
        return {"file": self.out_path.name, "format": "speedscope", "rate_hz": self.rate_hz,
                "started": self.started, "pid": self.pid, "subprocesses": self.subprocesses,
                "native": self.native, "idle": self.idle, "nonblocking": self.nonblocking}

    def register(self, rec, stream: str = "pyspy") -> None:
        """List the file in the recording's manifest (``streams.pyspy``)."""
        entry = self.manifest_entry()
        rec.register(stream, entry.pop("file"), format=entry.pop("format"), **entry)


_PROCESS_FRAME = re.compile(r'^process (\d+):"(.*)"$', re.S)


def _redact_process_names(path: Path) -> None:
    """py-spy names each process frame after its command line: mask its secrets
    (:mod:`pinkclinic.redact`) before anything reads the file."""
    import json

    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return
    changed = False
    for frame in (doc.get("shared") or {}).get("frames") or []:
        m = _PROCESS_FRAME.match(str(frame.get("name", "")))
        if m:
            safe = redact.spaced(m.group(2))
            if safe != m.group(2):
                frame["name"] = f'process {m.group(1)}:"{safe}"'
                changed = True
    if changed:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, separators=(",", ":")))
        os.replace(tmp, path)
