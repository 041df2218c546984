"""doctor's run modes: attach, --on-port, --no-load, --collect-only + report, multi-process."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

from tests.helpers import SAMPLES, free_port, run_cli, server
from tests.session.test_probe_attach import INJECTS

HEALTHY = [sys.executable, str(SAMPLES / "healthy_starlette.py")]


def _diagnosis(rec):
    return json.loads((rec / "diagnosis.json").read_text())


def test_attach_to_a_running_server_leaves_it_running(tmp_path):
    port = free_port()
    with server(HEALTHY, port, env={**os.environ, "PORT": str(port)}) as srv:
        proc = run_cli("doctor", "--dest", str(tmp_path), "--pid", str(srv.pid), "--load", "-c 5 -d 2",
                       timeout=90)
        assert proc.returncode == 0, proc.stderr
        assert srv.poll() is None, "an attached server must be left running"
    rec = tmp_path / f"{srv.pid}.pinkclinic-doctor"
    diagnosis = _diagnosis(rec)
    if INJECTS:  # the probe was injected: the in-process signals are there
        assert not {"loop-lag", "tasks"} & set(diagnosis["signals_missing"])
        assert (rec / f"probe-{srv.pid}.jsonl").exists()
    else:  # refused in one line: the out-of-process signals only
        assert {"loop-lag", "gc", "tasks"} <= set(diagnosis["signals_missing"])
        assert f"PID {srv.pid}: probe not injected" in proc.stderr
        # the loop chart shows what attach mode decides on: py-spy's view of the loop thread
        html = (tmp_path / f"{srv.pid}.pinkclinic-doctor.html").read_text()
        assert "Event-loop thread busy (py-spy samples" in html and "loop thread busy" in html
    manifest = json.loads((rec / "manifest.json").read_text())
    assert manifest["target"]["attached"] is True and manifest["target"]["port"] == port
    assert (rec / "pyspy.speedscope.json").stat().st_size > 0


def test_on_port_runs_the_users_load_command(tmp_path):
    load = f"{sys.executable} -m pinkclinic bench -n -c 4 -d 2 http://127.0.0.1:$PORT/"
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", "op", "--on-port", load, "--", *HEALTHY,
                   timeout=90, env={**os.environ, "PORT": "0"})
    assert proc.returncode == 0, proc.stderr
    rec = tmp_path / "op.pinkclinic-doctor"
    t = json.loads((rec / "manifest.json").read_text())["timings"]
    assert t["load_end"] - t["load_start"] >= 1.5
    assert "requests in" in (rec / "on-port.log").read_text()
    assert "requests in" in proc.stderr  # the load tool's own summary is shown too
    d = _diagnosis(rec)
    assert d["verdict"] == "healthy"
    # not our load, but uvicorn's app was timed by the probe: the per-route table is its
    # (tests/commands/test_doctor_on_port_routes.py checks it, and the line said without)
    assert d["routes"]["source"] == "probe" and [r["path"] for r in d["routes"]["table"]] == ["/"]
    assert "routes" not in d["signals_missing"] and (rec / "routes.json").exists()
    assert "Timed inside the server by pinkclinic's probe" in (tmp_path / "op.pinkclinic-doctor.html").read_text()


def test_no_load_records_until_the_target_exits(tmp_path):
    script = ("import http.server, threading, time\n"
              "srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), http.server.SimpleHTTPRequestHandler)\n"
              "threading.Thread(target=srv.serve_forever, daemon=True).start()\n"
              "time.sleep(3)\n")
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", "nl", "--no-load",
                   "--", sys.executable, "-c", script, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rec = tmp_path / "nl.pinkclinic-doctor"
    m = json.loads((rec / "manifest.json").read_text())
    assert m["status"]["outcome"] == "target-exited", m["status"]
    assert "load_start" not in m["timings"] and not (rec / "load.jsonl").exists()
    assert m["timings"]["stopping"] - m["timings"]["listening"] >= 1.5
    assert (tmp_path / "nl.pinkclinic-doctor.html").exists()
    # nobody sent it traffic: that is not "healthy"
    diagnosis = _diagnosis(rec)
    assert diagnosis["verdict"] == "insufficient-data" and "no sign of traffic" in diagnosis["summary"]
    assert "exited on its own" in proc.stdout and "exit code 0" in proc.stdout


def test_no_load_finished_with_ctrl_c_is_a_completed_run(tmp_path):
    import signal

    from tests.commands.doctor_run import finish, manifest, start, wait_for

    proc = start("doctor", tmp_path, "nlc", "--no-load", "--", *HEALTHY)
    rec = tmp_path / "nlc.pinkclinic-doctor"
    wait_for(lambda: (rec / "manifest.json").exists() and "listening" in manifest(rec)["timings"],
             proc=proc, what="the server to listen")
    time.sleep(2.0)
    out, err = finish(proc, signal.SIGINT)
    assert proc.returncode == 0, err  # Ctrl-C is how a --no-load recording ends
    assert manifest(rec)["status"] == {"detail": "recording ended with Ctrl-C", "outcome": "completed"}
    assert "interrupted" not in out and "interrupted" not in (tmp_path / "nlc.pinkclinic-doctor.html").read_text()


def test_collect_only_then_report(tmp_path):
    """Also: a load that only gets errors (a wrong path: 404s) is not called healthy."""
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", "co", "--collect-only", "--load",
                   "-c 4 -d 2 /nope", "--", *HEALTHY, timeout=90, env={**os.environ, "PORT": "0"})
    assert proc.returncode == 0, proc.stderr
    rec = tmp_path / "co.pinkclinic-doctor"
    assert not (rec / "diagnosis.json").exists()
    assert not (tmp_path / "co.pinkclinic-doctor.html").exists()
    assert str(rec) in proc.stdout
    rep = run_cli("report", str(rec), timeout=90)
    assert rep.returncode == 0, rep.stderr
    assert (tmp_path / "co.pinkclinic-doctor.html").exists()
    diagnosis = _diagnosis(rec)  # written by the HTML report's analysis
    # --format json analyses the recording again (its file removed first) and prints the
    # same diagnosis the HTML report was made from
    (rec / "diagnosis.json").unlink()
    js = run_cli("report", str(rec), "--format", "json", timeout=90)
    assert js.returncode == 0, js.stderr
    assert json.loads(js.stdout) == diagnosis
    assert diagnosis["verdict"] == "insufficient-data", diagnosis["summary"]
    assert "404" in diagnosis["summary"] and "check the path" in diagnosis["recommendation"]
    # the errors/s line shows them: as many errors as requests every second
    charts = _charts(tmp_path / "co.pinkclinic-doctor.html")
    load = next(c for c in charts["charts"] if c["id"] == "load")["series"]
    reqs, errs = (dict((t, v) for t, v in s["points"]) for s in load)
    assert errs and all(errs[t] == reqs[t] > 0 for t in reqs if reqs[t]), (reqs, errs)


def _charts(html_path):
    import html as html_mod
    import re

    text = html_path.read_text()
    m = re.search(r'<script type="application/json" id="pc-charts">(.*?)</script>', text, re.S)
    return json.loads(html_mod.unescape(m.group(1)))


def test_report_rejects_what_is_not_a_recording(tmp_path):
    proc = run_cli("report", str(tmp_path), timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("pinkclinic: error:") and "manifest.json" in proc.stderr


# gunicorn's workers followed and charted per process: the healthy_flask case of
# tests/commands/test_doctor_samples.py (one real run for both)


def _pyenv(version: str) -> str | None:
    from tests.bootstrap.probe_env import python

    return python(version)


@pytest.mark.parametrize("version", ["3.10", "3.13"])
def test_a_target_on_another_python(tmp_path, version):
    """The injected probe is stdlib-only and version-agnostic: a 3.10 or 3.13 server is
    diagnosed by pinkclinic running on this Python."""
    exe = _pyenv(version)
    if exe is None:
        pytest.skip(f"pyenv has no Python {version}")
    from tests.bootstrap.probe_env import TARGETS

    port = free_port()
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", "v", "--load", "-c 4 -d 3 /cpu",
                   "--", exe, str(TARGETS / "aio_server.py"), str(port), timeout=120)
    assert proc.returncode == 0, proc.stderr
    rec = tmp_path / "v.pinkclinic-doctor"
    diagnosis = _diagnosis(rec)
    assert diagnosis["verdict"] == "loop-cpu", diagnosis["summary"]
    assert diagnosis["issues"][0]["culprits"][0]["function"] == "spin"
    header = json.loads((rec / f"probe-{json.loads((rec / 'manifest.json').read_text())['target']['pid']}.jsonl")
                        .read_text().splitlines()[0])
    assert header["python"].startswith(version)


def test_uvicorn_workers_are_followed(tmp_path):
    cmd = [sys.executable, "-m", "uvicorn", "--workers", "2", "--port", "0", "--app-dir", str(SAMPLES),
           "healthy_starlette:app"]
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", "uw", "--load", "-c 4 -d 2", "--", *cmd,
                   timeout=120)
    assert proc.returncode == 0, proc.stderr
    rec = tmp_path / "uw.pinkclinic-doctor"
    pids = {json.loads(line)["pid"] for line in (rec / "processes.jsonl").read_text().splitlines()[1:]}
    assert len(pids) >= 3, pids
    with_loop = [p.name for p in rec.glob("probe-*.jsonl") if '"type":"loop"' in p.read_text()]
    assert len(with_loop) >= 2, with_loop  # an event loop seen in each worker
