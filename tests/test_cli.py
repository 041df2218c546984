"""The CLI layer: version, help, and one-line errors."""

from __future__ import annotations

import subprocess
import sys

from pinkclinic import __version__
from tests.helpers import run_cli, tagged_processes


def test_version_from_module():
    proc = run_cli("--version", check=True)
    assert proc.stdout.strip() == f"pinkclinic, version {__version__}"


def test_unknown_command_is_one_line_and_exit_2():
    proc = run_cli("no-such-command")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "no-such-command" in lines[0]
    assert "Traceback" not in proc.stderr


def test_orphan_guard_sees_a_tagged_child(no_orphans):
    """The guard this whole suite relies on must actually find a leaked process."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        pids = [pid for pid, _ in tagged_processes(no_orphans)]
        assert child.pid in pids
    finally:
        child.kill()
        child.wait()
    assert child.pid not in [pid for pid, _ in tagged_processes(no_orphans)]
