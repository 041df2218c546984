"""The exec gate: a process whose PID is known before the target command starts.

The recording is named after the target's PID, and the in-process probe must be told
where that recording is *before* the target runs. So :func:`spawn_gate` starts a tiny
stdlib-only Python process (in its own session, so a terminal Ctrl-C reaches only
pinkclinic) that blocks reading a control pipe. The caller learns its PID, creates the
recording folder, then :meth:`Gate.release` writes the final argv, environment, cwd and
log path down the pipe. The gate points stdout/stderr at the log and ``exec``s the
command, keeping the PID. An ``exec`` (or ``chdir``/log) failure is written back
through a close-on-exec pipe, so EOF on that pipe with no data means the exec worked.

If pinkclinic dies before releasing the gate, the control pipe closes empty and the
gate exits on its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from pinkclinic.errors import PinkError, UsageError

GATE_CODE = r'''
import json, os, signal, sys
ctl, err = int(sys.argv[1]), int(sys.argv[2])
chunks = []
while True:
    try:
        b = os.read(ctl, 1 << 16)
    except InterruptedError:
        continue
    if not b:
        break
    chunks.append(b)
os.close(ctl)
if not chunks:
    os._exit(0)
m = json.loads(b"".join(chunks))
def fail(stage, e):
    os.write(err, json.dumps({"stage": stage, "errno": e.errno, "strerror": e.strerror,
                              "filename": str(e.filename or "")}).encode())
    os._exit(127)
try:
    fd = os.open(m["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
except OSError as e:
    fail("log", e)
os.dup2(fd, 1)
os.dup2(fd, 2)
if fd > 2:
    os.close(fd)
if m.get("cwd"):
    try:
        os.chdir(m["cwd"])
    except OSError as e:
        fail("cwd", e)
# An ignored SIGINT would survive exec (e.g. pinkclinic run as a background job) and
# defeat the graceful stop; Python itself ignores SIGPIPE and SIGXFSZ.
for name in ("SIGINT", "SIGPIPE", "SIGXFSZ"):
    if hasattr(signal, name):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
os.set_inheritable(err, False)
try:
    os.execvpe(m["argv"][0], m["argv"], m["env"])
except OSError as e:
    fail("exec", e)
'''


def resolve_command(command: list[str], path: str | None) -> str:
    """The executable ``command[0]`` names, or a one-line :class:`PinkError`."""
    if not command:
        raise UsageError("no command given: put the server command after '--'")
    exe = command[0]
    if os.sep in exe:
        if not os.path.exists(exe):
            raise PinkError(f"command not found: {exe} (no such file)", exit_code=127)
        if os.path.isdir(exe) or not os.access(exe, os.X_OK):
            raise PinkError(f"cannot run {exe}: it is not an executable file", exit_code=126)
        return exe
    found = shutil.which(exe, path=path)
    if found is None:
        raise PinkError(f"command not found: {exe} (not on PATH)", exit_code=127)
    return found


class Gate:
    """A started gate process; :meth:`release` turns it into the target."""

    def __init__(self, command: list[str], cwd: str | os.PathLike | None = None):
        self.command = [str(a) for a in command]
        resolve_command(self.command, os.environ.get("PATH", os.defpath))
        if cwd is not None and not os.path.isdir(cwd):
            raise UsageError(f"working directory {cwd} does not exist")
        self.cwd = None if cwd is None else os.fspath(cwd)
        ctl_r, self._ctl_w = os.pipe()
        self._err_r, err_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", GATE_CODE, str(ctl_r), str(err_w)],
                pass_fds=(ctl_r, err_w), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, close_fds=True)
        finally:
            os.close(ctl_r)
            os.close(err_w)
        self.pid = self.proc.pid
        self.released = False

    def release(self, log_path: str | os.PathLike, env: dict[str, str | None] | None = None) -> None:
        """Exec the command with ``os.environ`` plus ``env`` (a ``None`` value unsets).

        Raises :class:`PinkError` if the exec fails; the gate has then exited."""
        if self.released:
            raise RuntimeError("gate already released")
        self.released = True
        full_env = dict(os.environ)
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = str(value)
        msg = json.dumps({"argv": self.command, "env": full_env, "cwd": self.cwd,
                          "log": os.path.abspath(log_path)}).encode()
        try:
            view = memoryview(msg)
            while view:
                view = view[os.write(self._ctl_w, view):]
        except OSError:
            pass  # the gate died; reported below through the error pipe / exit code
        finally:
            os.close(self._ctl_w)
        data = b""
        while True:
            chunk = os.read(self._err_r, 4096)
            if not chunk:
                break
            data += chunk
        os.close(self._err_r)
        if not data:  # EOF on the close-on-exec pipe: the exec worked
            return
        rc = self.proc.wait()
        raise PinkError(self._failure(data, rc), exit_code=127)

    def _failure(self, data: bytes, rc: int) -> str:
        exe = self.command[0]
        try:
            info = json.loads(data)
        except ValueError:
            return f"could not start {exe}: the launcher exited with {rc}"
        what = info.get("strerror") or "error"
        if info.get("stage") == "cwd":
            return f"cannot enter the working directory {self.cwd}: {what}"
        if info.get("stage") == "log":
            return f"cannot write the target log {info.get('filename')}: {what}"
        if info.get("errno") == 2:
            return f"command not found: {exe}"
        if info.get("errno") == 8:
            return f"cannot run {exe}: not an executable format (missing #! line?)"
        return f"cannot run {exe}: {what}"

    def cancel(self) -> None:
        """Close the gate without starting anything; the gate process exits."""
        if not self.released:
            self.released = True
            os.close(self._ctl_w)
            os.close(self._err_r)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
