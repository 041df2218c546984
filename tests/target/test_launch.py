"""Launching real servers behind the exec gate: PID naming, ports, stop, endings."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time

import pytest

from pinkclinic import procs
from pinkclinic.errors import PinkError
from pinkclinic.resources import BOOTSTRAP_DIR
from pinkclinic.target import http_answers, probe_env, spawn
from pinkclinic.target.ending import describe
from pinkclinic.target.launch import KILL_WAIT_S
from pinkclinic.target.ports import probe_listens
from tests.helpers import free_port
from tests.target.conftest import APPS, PY


def _tree_gone(pids, timeout=5.0):
    return procs.wait_gone(pids, timeout) == []


def test_gate_gives_the_pid_before_the_command_runs(tmp_path):
    target = spawn([PY, APPS / "two_ports.py"])
    try:
        rec_dir = tmp_path / f"{target.pid}.pinkclinic-doctor"   # named after the PID
        rec_dir.mkdir()
        assert "two_ports" not in " ".join(_cmdline(target.pid))  # still the gate
        # no probe features: the app writes the one listen record itself, so that record,
        # not the real probe's scan (which sees both ports), decides between the two
        env = probe_env(rec_dir, features=[])
        target.release(rec_dir / "target.log", env)
        listening = target.wait_listening(15, probe_dir=rec_dir)
        log = (rec_dir / "target.log").read_text()
        pid_line = next(ln for ln in log.splitlines() if ln.startswith("pid "))
        _, pid, _, probe = pid_line.split(" ", 3)
        assert int(pid) == target.pid                              # exec kept the PID
        assert json.loads(probe) == {"dir": str(rec_dir), "features": []}
        assert f"pythonpath {BOOTSTRAP_DIR}\n" in log              # the bootstrap comes first
        first, second = map(int, next(ln for ln in log.splitlines()
                                      if ln.startswith("ports ")).split()[1:])
        # both ports answer HTTP; the probe's listen record decides
        assert probe_listens(rec_dir) == [("127.0.0.1", second)]
        assert listening.port == second and listening.url == f"http://127.0.0.1:{second}"
        assert first != second
        assert target.manifest_target()["pid"] == target.pid
    finally:
        ending = target.stop(5)
    assert ending.outcome == "stopped" and ending.stop_signal == "SIGINT"
    assert ending.manifest_outcome() == "completed"


def _cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().decode().split("\0")


def test_uvicorn_port_found_and_whole_tree_stopped(start):
    target = start([PY, "-m", "uvicorn", "--app-dir", APPS, "--port", "0", "--workers", "2",
                    "hello_asgi:app"])
    listening = target.wait_listening(30)
    assert http_answers(listening.host, listening.port)
    assert len(listening.candidates) == 1          # workers share the socket: deduplicated
    tree = target.tree()
    assert len(tree) >= 3                          # supervisor + 2 workers (+ resource tracker)
    ending = target.stop(10)
    assert ending.outcome == "stopped" and ending.stop_signal == "SIGINT", ending
    assert _tree_gone(tree)


def test_bash_wrapper_and_explicit_port(start):
    port = free_port()
    target = start(["bash", "-c", f"{PY} -m http.server {port} --bind 127.0.0.1; echo done"])
    listening = target.wait_listening(15, port=port)
    assert listening.port == port
    tree = target.tree()
    assert len(tree) == 2 and target.python_pid() == tree[1]   # bash, then python
    assert target.stop(5).outcome == "stopped"
    assert _tree_gone(tree)


def test_shim_style_wrapper_keeps_the_pid(start, tmp_path):
    # like a pyenv shim: a shell script that execs another shell that execs python
    shim = tmp_path / "python"
    shim.write_text(f'#!/bin/sh\nexec bash -c \'exec "{PY}" "$@"\' python "$@"\n')
    shim.chmod(0o755)
    target = start([shim, "-m", "http.server", "0", "--bind", "127.0.0.1"])
    target.wait_listening(15)
    assert target.python_pid() == target.pid
    assert target.python_version() and target.python_version().count(".") == 2
    assert target.stop(5).outcome == "stopped"


@pytest.mark.skipif(not os.path.exists(os.path.expanduser("~/.pyenv/shims/python")),
                    reason="no pyenv shims on this machine")
def test_real_pyenv_shim(start):
    target = start([os.path.expanduser("~/.pyenv/shims/python"), "-m", "http.server", "0",
                    "--bind", "127.0.0.1"])
    target.wait_listening(15)
    assert target.python_pid() == target.pid
    assert target.stop(5).outcome == "stopped"


def test_crash_from_outside_is_detected(start):
    target = start([PY, "-m", "http.server", "0", "--bind", "127.0.0.1"])
    target.wait_listening(15)
    assert target.poll() is None
    os.kill(target.pid, signal.SIGKILL)
    ending = target.wait_exit(5)
    assert ending.outcome == "crashed" and ending.signal == "SIGKILL"
    assert "kill -9" in ending.detail
    final = target.stop(5)                         # stop after a crash keeps the verdict
    assert final.outcome == "crashed" and final.manifest_outcome() == "target-crashed"


def test_a_non_zero_exit_on_its_own_is_a_crash(start):
    target = start([PY, APPS / "serve_then_exit.py"], env={"SERVE_FOR": "1.5"})
    target.wait_listening(15)
    ending = target.wait_exit(10)
    assert ending.outcome == "crashed" and ending.returncode == 4 and ending.signal is None
    assert target.stop(5).manifest_outcome() == "target-crashed"
    assert describe(ending, after="1.2 s into the load", last_line="boom") == \
        "the target crashed 1.2 s into the load: exit code 4; its last line: 'boom'"


def test_exit_code_0_on_its_own_is_an_exit(start):
    target = start([PY, "-c", "import time; time.sleep(0.3)"])
    ending = target.wait_exit(10)
    assert ending.outcome == "exited" and ending.returncode == 0
    assert target.stop(5).manifest_outcome() == "target-exited"


def test_stop_keeps_to_its_timeout_and_a_hurry_goes_straight_to_sigkill(start):
    target = start([PY, APPS / "deaf.py"])
    target.wait_listening(15)
    t0 = time.monotonic()
    ending = target.stop(3)
    took = time.monotonic() - t0
    assert ending.stop_signal == "SIGKILL", ending
    # SIGINT, SIGTERM after 2 s, SIGKILL at 3 s (it used to wait 3 s, then 3 s more)
    assert 2.5 < took < 3 + KILL_WAIT_S + 1, took
    target = start([PY, APPS / "deaf.py"])
    target.wait_listening(15)
    hurry = threading.Event()
    threading.Timer(0.5, hurry.set).start()
    t0 = time.monotonic()
    assert target.stop(60, hurry=hurry).stop_signal == "SIGKILL"
    assert time.monotonic() - t0 < 10


def test_stop_escalates_to_sigterm_when_sigint_is_ignored(start):
    target = start([PY, APPS / "stubborn.py"])
    target.wait_listening(15)
    ending = target.stop(0.5)
    assert ending.outcome == "stopped" and ending.stop_signal == "SIGTERM"
    assert "did not stop on SIGINT" in ending.detail


def test_stop_continues_a_stopped_target(start):
    target = start([PY, "-m", "http.server", "0", "--bind", "127.0.0.1"])
    target.wait_listening(15)
    os.kill(target.pid, signal.SIGSTOP)
    ending = target.stop(5)
    assert ending.outcome == "stopped" and ending.stop_signal == "SIGINT"


def test_env_none_unsets_and_cwd_applies(start, tmp_path):
    os.environ["PINK_TEST_UNSET_ME"] = "x"
    try:
        target = start([PY, "-c", "import os, socket, time; "
                        "print(os.getcwd(), os.environ.get('PINK_TEST_UNSET_ME'), flush=True)"],
                       env={"PINK_TEST_UNSET_ME": None}, cwd=tmp_path)
    finally:
        del os.environ["PINK_TEST_UNSET_ME"]
    assert target.wait_exit(10).returncode == 0
    assert (tmp_path / "target.log").read_text().split() == [str(tmp_path), "None"]


def test_port_busy_check_before_launch():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        t0 = time.monotonic()
        with pytest.raises(PinkError) as err:
            spawn([PY, "-m", "http.server", str(port)], port=port)
        assert time.monotonic() - t0 < 5
    assert f"port {port} is already in use by PID {os.getpid()}" in str(err.value)
