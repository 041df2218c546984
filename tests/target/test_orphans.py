"""No child outlives pinkclinic, even when pinkclinic is killed with kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

from pinkclinic import procs
from tests.helpers import ROOT
from tests.target.conftest import APPS


def test_kill_9_of_the_parent_leaves_nothing_behind(tmp_path):
    parent = subprocess.Popen([sys.executable, APPS / "pinkclinic_like.py", tmp_path],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        started = json.loads(parent.stdout.readline())
    finally:
        if parent.poll() is not None:
            raise AssertionError(f"the parent died: {(tmp_path / 'target.log').read_text()}")
    tree = started["tree"]
    assert len(tree) == 3                                   # gunicorn master + 2 workers
    for _ in range(20):
        urllib.request.urlopen(started["url"], timeout=5).read()
    time.sleep(1.0)  # py-spy samples for a while (on a loaded machine 20 requests take ~10 ms)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    everything = [*tree, started["pyspy"], started["watchdog"]]
    assert procs.wait_gone(everything, 8.0) == [], "orphans after kill -9 of pinkclinic"
    # py-spy got SIGINT (parent-death signal and watchdog): its file is complete
    profile = json.loads((tmp_path / "pyspy.speedscope.json").read_text())
    assert profile["profiles"]
    # gunicorn got a graceful SIGINT first, so its log says it shut down
    assert "Shutting down" in (tmp_path / "target.log").read_text()


def test_terminal_ctrl_c_reaches_only_pinkclinic_which_stops_the_target(tmp_path):
    # the parent leads its own process group, like a shell job; Ctrl-C = SIGINT to that group
    parent = subprocess.Popen([sys.executable, APPS / "ctrl_c_parent.py", tmp_path], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        assert parent.stdout.readline().strip() == "ready"
        os.killpg(parent.pid, signal.SIGINT)
        line = parent.stdout.readline()
    finally:
        parent.wait(10)
        parent.stdout.close()
        err = parent.stderr.read()
        parent.stderr.close()
    assert line, f"the parent said nothing after Ctrl-C (exit {parent.returncode}): {err[-2000:]}"
    ending = json.loads(line)
    assert ending["alive_before_stop"] is True           # the target is in its own session
    assert ending["outcome"] == "stopped" and ending["stop_signal"] == "SIGINT"
