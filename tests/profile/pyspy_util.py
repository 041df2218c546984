"""Record a real server with py-spy the way pinkclinic does, while a client loads it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import free_port, server

APPS = Path(__file__).parent / "apps"


def pyspy_bin() -> str:
    exe = shutil.which("py-spy")
    if exe is None:
        pytest.skip("py-spy is not installed")
    return exe


def _load(url: str, stop: threading.Event, pause: float) -> None:
    while not stop.is_set():
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                r.read()
        except OSError:
            time.sleep(0.05)
        if pause:
            stop.wait(pause)


def record_app(out: Path, *, app: str = "hot_app.py", loop: str = "asyncio",
               seconds: float = 2.5, extra: tuple[str, ...] = (), pause: float = 0.0) -> int:
    """Run ``app`` under load, record it with py-spy into ``out``; returns the server PID."""
    port = free_port()
    cmd = [sys.executable, str(APPS / app), str(port), loop]
    with server(cmd, port) as proc:
        stop = threading.Event()
        clients = [threading.Thread(target=_load, args=(f"http://127.0.0.1:{port}/", stop, pause))
                   for _ in range(2)]
        for c in clients:
            c.start()
        try:
            spy = subprocess.run(
                [pyspy_bin(), "record", "--pid", str(proc.pid), "--idle", "--threads",
                 "--full-filenames", "-f", "speedscope", "-o", str(out), "-r", "100",
                 "-d", str(int(seconds + 0.999)), *(() if "--native" in extra else ("--nonblocking",)), *extra],
                capture_output=True, text=True, timeout=60)
        finally:
            stop.set()
            for c in clients:
                c.join(10)
        if spy.returncode != 0 or not out.exists():
            raise AssertionError(f"py-spy failed ({spy.returncode}): {spy.stderr[-2000:]}")
        return proc.pid
