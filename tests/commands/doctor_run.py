"""Helpers for tests that run `pinkclinic doctor` (and flame/heap) as a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from tests.helpers import pinkclinic_cmd


def start(tool: str, dest: Path, name: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    """Start ``pinkclinic TOOL --dest DEST --name NAME ARGS`` in the background."""
    return subprocess.Popen(pinkclinic_cmd(tool, "--dest", str(dest), "--name", name, *args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PORT": "0", **(env or {})})


def wait_for(predicate, timeout: float = 60.0, proc: subprocess.Popen | None = None, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            _out, err = proc.communicate()
            raise AssertionError(f"pinkclinic exited ({proc.returncode}) before {what}:\n{err[-2000:]}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def load_lines(rec: Path) -> int:
    path = rec / "load.jsonl"
    try:
        return max(0, len(path.read_text().splitlines()) - 1)
    except OSError:
        return 0


def manifest(rec: Path) -> dict:
    return json.loads((rec / "manifest.json").read_text())


def finish(proc: subprocess.Popen, sig: int | None = None, timeout: float = 90) -> tuple[str, str]:
    if sig is not None:
        proc.send_signal(sig)
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        _out, err = proc.communicate()
        raise AssertionError(f"pinkclinic did not finish within {timeout}s:\n{err[-2000:]}") from None
