"""doctor when things go wrong: Ctrl-C in any phase, a crashing target, pinkclinic itself
killed, and every start-up error as one line. No process may outlive any of them (the
suite-wide orphan guard checks every test)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time

import pytest

from tests.commands.doctor_run import finish, load_lines, manifest, start, wait_for
from tests.helpers import SAMPLES, run_cli

HEALTHY = [sys.executable, str(SAMPLES / "healthy_starlette.py")]


def test_ctrl_c_during_the_load_still_writes_the_report(tmp_path):
    proc = start("doctor", tmp_path, "cc", "--load", "-c 5 -d 60", "--", *HEALTHY)
    rec = tmp_path / "cc.pinkclinic-doctor"
    wait_for(lambda: load_lines(rec) >= 2, proc=proc, what="two seconds of load")
    out, err = finish(proc, signal.SIGINT)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    m = manifest(rec)
    assert m["status"]["outcome"] == "interrupted"
    assert (tmp_path / "cc.pinkclinic-doctor.html").exists()
    diagnosis = json.loads((rec / "diagnosis.json").read_text())
    assert diagnosis["verdict"] in ("healthy", "insufficient-data")
    assert "report:" in out


def test_ctrl_c_while_waiting_for_the_port(tmp_path):
    never = [sys.executable, "-c", "import time; time.sleep(60)"]
    proc = start("doctor", tmp_path, "wait", "--start-timeout", "50", "--", *never)
    rec = tmp_path / "wait.pinkclinic-doctor"
    wait_for(lambda: (rec / "manifest.json").exists() and "launched" in manifest(rec)["timings"],
             proc=proc, what="the launch")
    time.sleep(0.5)
    _out, err = finish(proc, signal.SIGINT)
    assert proc.returncode == 130, err
    assert manifest(rec)["status"]["outcome"] == "interrupted"
    diagnosis = json.loads((rec / "diagnosis.json").read_text())
    assert diagnosis["verdict"] == "insufficient-data"
    assert (tmp_path / "wait.pinkclinic-doctor.html").exists()


def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    proc = start("doctor", tmp_path, "term", "--load", "-c 5 -d 60", "--", *HEALTHY)
    rec = tmp_path / "term.pinkclinic-doctor"
    wait_for(lambda: load_lines(rec) >= 1, proc=proc, what="load")
    _out, err = finish(proc, signal.SIGTERM)
    assert proc.returncode == 130, err
    assert manifest(rec)["status"]["outcome"] == "interrupted"
    assert "SIGTERM" in manifest(rec)["status"]["detail"]


def test_a_target_killed_mid_run_gives_a_report_that_says_so(tmp_path):
    proc = start("doctor", tmp_path, "crash", "--load", "-c 5 -d 60", "--", *HEALTHY)
    rec = tmp_path / "crash.pinkclinic-doctor"
    wait_for(lambda: load_lines(rec) >= 2, proc=proc, what="load")
    os.kill(manifest(rec)["target"]["pid"], signal.SIGKILL)
    _out, err = finish(proc)
    assert proc.returncode == 1, err
    m = manifest(rec)
    assert m["status"]["outcome"] == "target-crashed", m["status"]
    assert "SIGKILL" in m["status"]["detail"]
    html = (tmp_path / "crash.pinkclinic-doctor.html").read_text()
    assert "crashed" in html


def test_pinkclinic_killed_leaves_no_process_and_a_usable_recording(tmp_path):
    proc = start("doctor", tmp_path, "k9", "--load", "-c 5 -d 60", "--", *HEALTHY)
    rec = tmp_path / "k9.pinkclinic-doctor"
    wait_for(lambda: load_lines(rec) >= 2, proc=proc, what="load")
    proc.kill()
    proc.communicate(timeout=10)
    # the orphan guard fails this test if the server, py-spy or the load worker survive;
    # give the watchdog and the parent-death signals a moment, then re-analyse
    time.sleep(1.0)
    again = run_cli("report", str(rec), timeout=120)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "k9.pinkclinic-doctor.html").exists()
    assert json.loads((rec / "diagnosis.json").read_text())["verdict"]


@pytest.mark.parametrize("command,expect", [
    (["no-such-command-pinkclinic"], "not found"),
    ([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], "exit"),
])
def test_startup_failures_are_one_line(tmp_path, command, expect):
    proc = run_cli("doctor", "--dest", str(tmp_path), "--", *command, timeout=60)
    assert proc.returncode not in (0, 130)
    lines = proc.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("pinkclinic: error:"), proc.stderr
    assert expect in lines[-1].lower()
    assert "Traceback" not in proc.stderr


def test_never_listening_times_out_in_one_line(tmp_path):
    proc = run_cli("doctor", "--dest", str(tmp_path), "--start-timeout", "2", "--",
                   sys.executable, "-c", "import time; time.sleep(30)", timeout=60)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("pinkclinic: error:") and "start-timeout" in last, proc.stderr


def test_a_taken_port_is_one_line(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = run_cli("doctor", "--dest", str(tmp_path), "--port", str(port), "--", *HEALTHY,
                       timeout=60, env={**os.environ, "PORT": str(port)})
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert "in use" in last and str(port) in last, proc.stderr


@pytest.mark.parametrize("args,expect", [
    (["--load", "-c"], "-c"),
    (["--load", "-c 5", "--no-load"], "cannot be used together"),
    (["--pid", "1", "--", "python"], "either --pid or a command"),
    ([], "give a command after --"),
    (["--start-timeout", "0", "--", "python"], "--start-timeout"),
])
def test_bad_options_exit_2_with_one_line(tmp_path, args, expect):
    proc = run_cli("doctor", "--dest", str(tmp_path), *args, timeout=30)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expect in lines[0], proc.stderr


def test_duration_cannot_be_combined_with_a_load(tmp_path):
    proc = run_cli("flame", "--dest", str(tmp_path), "--duration", "3", "--load", "-c 2 -d 2", "--",
                   *HEALTHY, timeout=30)
    assert proc.returncode == 2 and "--duration records without load" in proc.stderr
