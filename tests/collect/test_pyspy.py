"""py-spy through wrappers, its failures as one line, and a target that dies under it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import pytest

from pinkclinic.collect import CollectorUnavailable
from pinkclinic.collect.pyspy import PySpy
from tests.helpers import PERL_SERVER, free_port
from tests.target.conftest import APPS


def test_waits_for_python_behind_a_shell(start, tmp_path):
    # the launched PID is bash for 0.5 s before it becomes python (like a slow shim)
    target = start(["bash", "-c", f"sleep 0.5; exec {sys.executable} {APPS / 'threads.py'}"])
    spy = PySpy(target.pid, tmp_path / "pyspy.speedscope.json", subprocesses=False,
                watchdog=target.watchdog)
    spy.start(15)
    assert spy.pid == target.pid and spy.running
    target.wait_listening(15)
    time.sleep(1.0)  # py-spy's first samples: it may start late on a busy machine (CI once
    # stopped it at the listen with no sample at all)
    result = spy.stop()
    assert not spy.running and result["hung"] is False
    profile = json.loads((tmp_path / "pyspy.speedscope.json").read_text())
    names = [p["name"] for p in profile["profiles"]]            # one profile per thread
    tids = {int(n.split("Thread ")[1].split()[0]) for n in names}  # names can lag: key on TIDs
    assert target.pid in tids and len(tids) >= 4               # main + 3 spinning threads
    assert any("spin" in f["name"] for f in profile["shared"]["frames"])
    assert target.poll() is None                               # py-spy left the target alone


def test_target_killed_under_pyspy_still_gives_a_file(start, tmp_path):
    target = start([sys.executable, APPS / "threads.py"])
    target.wait_listening(15)
    spy = PySpy(target.pid, tmp_path / "pyspy.speedscope.json")
    spy.start(15)
    os.kill(target.pid, signal.SIGKILL)
    assert target.wait_exit(5).outcome == "crashed"
    result = spy.stop(10)
    assert result["hung"] is False and result["bytes"] > 0


def test_missing_pyspy_is_a_missing_signal(start, tmp_path):
    target = start([sys.executable, "-c", "import time; time.sleep(30)"])
    spy = PySpy(target.pid, tmp_path / "out.json", executable=str(tmp_path / "no-py-spy"))
    with pytest.raises(CollectorUnavailable) as err:
        spy.start(5)
    assert err.value.signal == "stacks"
    assert str(err.value) == (f"py-spy is not installed at {tmp_path / 'no-py-spy'}; "
                              "stack samples are missing")


def test_target_that_never_runs_python(start, tmp_path):
    target = start(["sleep", "30"])
    with pytest.raises(CollectorUnavailable) as err:
        PySpy(target.pid, tmp_path / "out.json").start(1.0)
    assert "no Python process found in the target's tree" in str(err.value)


def test_target_gone_before_attach(start, tmp_path):
    target = start(["true"])
    target.wait_exit(5)
    with pytest.raises(CollectorUnavailable) as err:
        PySpy(target.pid, tmp_path / "out.json").start(5)
    assert "exited before py-spy could attach" in str(err.value)


def test_retries_while_python_is_not_ready_then_says_why(start, tmp_path):
    # an executable named like Python that never becomes one: py-spy keeps failing with
    # "No python processes found" / "Failed to find python version", retried to the deadline
    fake = tmp_path / "python3"
    fake.write_bytes(Path("/bin/sleep").read_bytes())
    fake.chmod(0o755)
    target = start([fake, "30"])
    spy = PySpy(target.pid, tmp_path / "out.json")
    with pytest.raises(CollectorUnavailable) as err:
        spy.start(3.0)
    assert spy.attempts >= 2
    assert str(err.value).startswith("py-spy did not start sampling within 3s (Error: ")


needs_perl = pytest.mark.skipif(shutil.which("perl") is None, reason="needs perl for a non-Python server")


@needs_perl
def test_a_listening_tree_without_python_fails_at_once(start, tmp_path):
    # a server in another language: waiting out the start window cannot make it Python
    port = free_port()
    target = start(["perl", "-e", PERL_SERVER, port], port=port)
    target.wait_listening(15, port=port)
    spy = PySpy(target.pid, tmp_path / "out.json")
    t0 = time.monotonic()
    with pytest.raises(CollectorUnavailable) as err:
        spy.start(30)
    assert time.monotonic() - t0 < 15  # well before the deadline, even beside a busy core
    assert spy.attempts == 0 and err.value.signal == "stacks"
    assert str(err.value) == (f"no Python process found in the target's tree, which listens on "
                              f"port {port}: py-spy samples Python only; stack samples are missing")


@needs_perl
def test_no_interpreter_in_a_process_of_a_listening_tree_is_final(start, tmp_path):
    # named like Python, so it is tried, but it is perl: py-spy's own "no interpreter"
    # answer, once the tree listens, is not retried to the deadline
    fake = tmp_path / "python3"
    shutil.copy(os.path.realpath(shutil.which("perl")), fake)
    port = free_port()
    target = start([fake, "-e", PERL_SERVER, port], port=port)
    target.wait_listening(15, port=port)
    spy = PySpy(target.pid, tmp_path / "out.json")
    t0 = time.monotonic()
    with pytest.raises(CollectorUnavailable) as err:
        spy.start(30)
    assert time.monotonic() - t0 < 15
    assert spy.attempts == 1 and not spy.running
    assert str(err.value).startswith(f"py-spy finds no Python interpreter in PID {target.pid} "
                                     "although its tree already listens: Error: ")
    assert target.poll() is None  # the server is left alone
