"""The suite-wide guards of tests/conftest.py must work: the orphan guard finds a leaked
process. (pytest-timeout's, inside uvloop: tests/load/test_timeout_guard.py.)"""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import tagged_processes


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
