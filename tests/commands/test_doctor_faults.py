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
# answers HTTP, then dies with exit code 3 after its 200th answer (mid-load), saying why
CRASHY = """
import asyncio, os, sys
answered = 0
async def handle(reader, writer):
    global answered
    while True:
        line = await reader.readline()
        if not line:
            break
        if line in (b"\\r\\n", b"\\n"):
            writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
            await writer.drain()
            answered += 1
            if answered == 200:  # mid-load, however long the start-up took
                print("fatal: database connection lost", file=sys.stderr, flush=True)
                os._exit(3)
    writer.close()
async def main():
    await asyncio.start_server(handle, "127.0.0.1", int(os.environ.get("PORT", "0")))
    await asyncio.get_running_loop().create_future()
asyncio.run(main())
"""


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
    out, err = finish(proc, signal.SIGINT)
    assert proc.returncode == 130, err
    assert manifest(rec)["status"]["outcome"] == "interrupted"
    diagnosis = json.loads((rec / "diagnosis.json").read_text())
    assert diagnosis["verdict"] == "insufficient-data"
    assert (tmp_path / "wait.pinkclinic-doctor.html").exists()
    # it says the run was interrupted, not that the load was too short
    assert "run: interrupted" in out and "longer or heavier" not in out, out


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


@pytest.mark.parametrize("tool", ["doctor", "flame"])
def test_a_target_that_crashes_mid_load_is_exit_1_and_said_in_one_line(tmp_path, tool):
    """Shared by every recording command: a non-zero exit on its own is a crash."""
    proc = start(tool, tmp_path, "cr", "--load", "-c 5 -d 30", "--", sys.executable, "-c", CRASHY)
    out, err = finish(proc)
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    rec = tmp_path / f"cr.pinkclinic-{tool}"
    status = manifest(rec)["status"]
    assert status["outcome"] == "target-crashed", status
    line = [ln for ln in out.splitlines() if "the target crashed" in ln]
    assert len(line) == 1, out
    assert " s into the load: exit code 3" in line[0] and "database connection lost" in line[0]
    html = (tmp_path / f"cr.pinkclinic-{tool}.html").read_text()
    assert "exit code 3" in html and "database connection lost" in html


def test_pinkclinic_killed_leaves_no_process_and_a_usable_recording(tmp_path):
    proc = start("doctor", tmp_path, "k9", "--load", "-c 5 -d 60", "--", *HEALTHY)
    rec = tmp_path / "k9.pinkclinic-doctor"
    wait_for(lambda: load_lines(rec) >= 2, proc=proc, what="load")
    proc.kill()
    proc.communicate(timeout=10)
    # the orphan guard fails this test if the server, py-spy or the load worker survive;
    # wait until the watchdog and the parent-death signals have ended them (py-spy writes
    # its file as it goes), then re-analyse
    wait_for(lambda: not _tagged(), timeout=10, what="the server, py-spy and the load worker to exit")
    assert "load_end" not in manifest(rec)["timings"]
    again = run_cli("report", str(rec), timeout=120)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "k9.pinkclinic-doctor.html").exists()
    # the load window ends where load.jsonl does: a diagnosis, not "no load window"
    diagnosis = json.loads((rec / "diagnosis.json").read_text())
    assert diagnosis["verdict"] == "healthy", diagnosis["summary"]
    assert diagnosis["window"]["end"] - diagnosis["window"]["start"] >= 1.0
    assert "pinkclinic was stopped before it finished the recording" in again.stdout


def test_pinkclinic_killed_during_an_on_port_command_leaves_none_of_its_processes(tmp_path):
    """Only the shell has the parent-death signal; the watchdog takes the rest."""
    proc = start("doctor", tmp_path, "opk", "--on-port", "sleep 37; echo $PORT", "--", *HEALTHY)
    rec = tmp_path / "opk.pinkclinic-doctor"
    wait_for(lambda: (rec / "manifest.json").exists() and "load_start" in manifest(rec)["timings"],
             proc=proc, what="the --on-port command")
    time.sleep(0.3)
    assert [p for p in _tagged() if "sleep 37" in p[1]], "the command should be running"
    proc.kill()
    proc.communicate(timeout=10)
    # the orphan guard fails the test if `sleep 37` (or the server) is still alive


def _tagged():
    from tests.helpers import TAG_VAR, tagged_processes

    return tagged_processes(os.environ[TAG_VAR])


def test_a_failing_on_port_command_is_one_line_and_in_the_report(tmp_path):
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", "opf", "--on-port",
                   "no-such-load-tool-pk -d 5 http://127.0.0.1:$PORT/", "--", *HEALTHY,
                   timeout=90, env={**os.environ, "PORT": "0"})
    assert proc.returncode == 1, proc.stderr
    line = [ln for ln in proc.stdout.splitlines() if "--on-port command failed" in ln]
    assert len(line) == 1 and "exit code 127" in line[0] and "not found" in line[0], proc.stdout
    m = manifest(tmp_path / "opf.pinkclinic-doctor")
    assert m["status"]["outcome"] == "error" and m["on_port"]["returncode"] == 127
    html = (tmp_path / "opf.pinkclinic-doctor.html").read_text()
    assert "--on-port command failed with exit code 127" in html
    assert "longer or heavier" not in proc.stdout  # the advice is to fix the command


@pytest.mark.parametrize("signals,report", [((signal.SIGINT,), True),
                                            ((signal.SIGINT, signal.SIGTERM), False)])
def test_ctrl_c_after_the_recording(tmp_path, signals, report):
    """Once recorded, one Ctrl-C still gets the report written; a second one skips it and
    says how to make it later. The signals are queued while pinkclinic is stopped, so
    they land in that phase whatever the machine's speed."""
    proc = start("doctor", tmp_path, "late", "--load", "-c 5 -d 2", "--", *HEALTHY)
    for line in proc.stderr:
        if "saving source lines" in line:
            proc.send_signal(signal.SIGSTOP)
            break
    for sig in signals:
        proc.send_signal(sig)
    proc.send_signal(signal.SIGCONT)
    out, err = finish(proc)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    rec = tmp_path / "late.pinkclinic-doctor"
    m = manifest(rec)
    assert m["status"]["outcome"] == "completed"  # the recording itself is complete
    assert (tmp_path / "late.pinkclinic-doctor.html").exists() == report
    if report:
        assert "report:" in out and m["status"]["report"].startswith("written after Ctrl-C")
    else:
        assert f"recording kept: pinkclinic report {rec}" in err
        assert m["status"]["report"].startswith("not written")
        again = run_cli("report", str(rec), timeout=120)
        assert again.returncode == 0 and (tmp_path / "late.pinkclinic-doctor.html").exists()


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
    assert "it printed nothing" in last
    assert list(tmp_path.iterdir()) == []  # nothing to look at: no folder left behind


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
    (["--load", "-c abc", "--", "python"], "--load: Invalid value"),
    (["--load", "-c 2 http://127.0.0.1:9/abc", "--", "python"], "--load takes a path, not a URL"),
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
    assert "--load: --load" not in lines[0]


def test_duration_cannot_be_combined_with_a_load(tmp_path):
    proc = run_cli("flame", "--dest", str(tmp_path), "--duration", "3", "--load", "-c 2 -d 2", "--",
                   *HEALTHY, timeout=30)
    assert proc.returncode == 2 and "--duration records without load" in proc.stderr
