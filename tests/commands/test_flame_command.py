"""`pinkclinic flame` end to end: a sample whose hot function is known, the exports, the
pyinstrument profiler, and the faults (a crash, Ctrl-C, a PID that is gone)."""

from __future__ import annotations

import json
import os
import signal
import sys

from tests.commands.doctor_run import finish, load_lines, manifest, start, wait_for
from tests.helpers import SAMPLES, run_cli

HOT = [sys.executable, str(SAMPLES / "loop_cpu_starlette.py")]
ENV = {**os.environ, "PORT": "0"}


def _profile(rec):
    from pinkclinic.profile import build_profile

    return build_profile(rec)


def test_the_hot_function_has_the_largest_busy_share_among_app_frames(tmp_path):
    proc = run_cli("flame", "--dest", str(tmp_path), "--name", "hot", "--load", "-c 5 -d 3", "--", *HOT,
                   timeout=120, env=ENV)
    assert proc.returncode == 0, proc.stderr
    rec = tmp_path / "hot.pinkclinic-flame"
    profile = _profile(rec)
    app = [s for s in profile.functions(idle=False) if profile.frames[s.frame].area == "app"
           and not profile.frames[s.frame].file.startswith("<")]
    top = max(app, key=lambda s: s.self)
    assert profile.frames[top.frame].function == "render_report"
    assert top.self / profile.total(idle=False) > 0.5
    assert "render_report" in proc.stdout
    html = (tmp_path / "hot.pinkclinic-flame.html").read_text()
    assert "render_report" in html


def test_exports_from_a_flame_recording(tmp_path):
    proc = run_cli("flame", "--dest", str(tmp_path), "--name", "ex", "--load", "-c 5 -d 2", "--", *HOT,
                   timeout=120, env=ENV)
    assert proc.returncode == 0, proc.stderr
    rec = tmp_path / "ex.pinkclinic-flame"
    out = tmp_path / "profile.speedscope.json"
    assert run_cli("report", str(rec), "--format", "speedscope", "-o", str(out)).returncode == 0
    doc = json.loads(out.read_text())
    assert doc["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    assert doc["profiles"] and all(p["type"] == "sampled" for p in doc["profiles"])
    names = {f["name"] for f in doc["shared"]["frames"]}
    assert "render_report" in names
    collapsed = run_cli("report", str(rec), "--format", "collapsed")
    assert collapsed.returncode == 0 and "render_report" in collapsed.stdout
    assert all(line.rsplit(" ", 1)[1].isdigit() for line in collapsed.stdout.splitlines() if line)


def test_pyinstrument_profiler_in_process(tmp_path):
    proc = run_cli("flame", "--profiler", "pyinstrument", "--dest", str(tmp_path), "--name", "pi",
                   "--load", "-c 5 -d 3", "--", *HOT, timeout=120, env=ENV)
    assert proc.returncode == 0, proc.stderr
    rec = tmp_path / "pi.pinkclinic-flame"
    assert list(rec.glob("pyinstrument-*.jsonl"))
    profile = _profile(rec)
    assert profile.unit == "seconds"
    busiest = max(profile.functions(idle=False), key=lambda s: s.self)
    assert profile.frames[busiest.frame].function == "render_report"


def test_flame_survives_a_crash_and_ctrl_c(tmp_path):
    proc = start("flame", tmp_path, "crash", "--load", "-c 4 -d 60", "--", *HOT)
    rec = tmp_path / "crash.pinkclinic-flame"
    wait_for(lambda: load_lines(rec) >= 2, proc=proc, what="load")
    os.kill(manifest(rec)["target"]["pid"], signal.SIGKILL)
    finish(proc)
    assert proc.returncode == 1
    assert manifest(rec)["status"]["outcome"] == "target-crashed"
    assert (tmp_path / "crash.pinkclinic-flame.html").exists()

    proc = start("flame", tmp_path, "cc", "--load", "-c 4 -d 60", "--", *HOT)
    rec = tmp_path / "cc.pinkclinic-flame"
    wait_for(lambda: load_lines(rec) >= 2, proc=proc, what="load")
    _out, _ = finish(proc, signal.SIGINT)
    assert proc.returncode == 130
    assert "render_report" in (tmp_path / "cc.pinkclinic-flame.html").read_text()


def test_flame_on_a_pid_that_is_gone_or_with_bad_options(tmp_path):
    gone = run_cli("flame", "--dest", str(tmp_path), "--pid", "999999", "--duration", "2", timeout=30)
    assert gone.returncode == 1
    errors = [ln for ln in gone.stderr.splitlines() if "error" in ln]
    assert len(errors) == 1 and "999999" in errors[0] and "Traceback" not in gone.stderr
    bad = run_cli("flame", "--profiler", "pyinstrument", "--pid", "1", timeout=30)
    assert bad.returncode == 2 and "cannot attach" in bad.stderr
    rate = run_cli("flame", "--rate", "0", "--", "python", timeout=30)
    assert rate.returncode == 2 and len(rate.stderr.strip().splitlines()) == 1


def test_attach_for_a_duration_records_passively(tmp_path):
    from tests.helpers import free_port, server

    port = free_port()
    with server(HOT, port, env={**os.environ, "PORT": str(port)}) as srv:
        proc = run_cli("flame", "--dest", str(tmp_path), "--pid", str(srv.pid), "--duration", "2",
                       timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert srv.poll() is None
    rec = tmp_path / f"{srv.pid}.pinkclinic-flame"
    m = manifest(rec)
    assert m["options"]["no_load"] is True and not (rec / "load.jsonl").exists()
    assert 1.5 <= m["timings"]["stopping"] - m["timings"]["listening"] <= 6


def test_lines_split_a_function_into_its_lines(tmp_path):
    proc = run_cli("flame", "--dest", str(tmp_path), "--name", "ln", "--load", "-c 5 -d 2", "--", *HOT,
                   timeout=120, env=ENV)
    assert proc.returncode == 0, proc.stderr
    rec = tmp_path / "ln.pinkclinic-flame"

    def render_report_frames(*flags):
        out = run_cli("report", str(rec), "--format", "speedscope", *flags)
        assert out.returncode == 0, out.stderr
        return [f for f in json.loads(out.stdout)["shared"]["frames"] if f["name"] == "render_report"]

    assert len(render_report_frames()) == 1            # keyed by function and file
    assert len(render_report_frames("--lines")) >= 2   # the loop's lines apart
