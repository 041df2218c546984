"""`pinkclinic flame` end to end: a sample whose hot function is known, the exports, the
pyinstrument profiler, the CPU and wall-clock views of a blocking server, --native, and
the faults (a crash, Ctrl-C, a PID that is gone or not permitted, py-spy failing)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

from tests.commands.doctor_run import finish, load_lines, manifest, start, wait_for
from tests.helpers import (
    PERL_SERVER,
    SAMPLES,
    TAG_VAR,
    free_port,
    pinkclinic_cmd,
    run_cli,
    tagged_processes,
)
from tests.reports import flame_functions

HOT = [sys.executable, str(SAMPLES / "loop_cpu_starlette.py")]
BLOCKING = [sys.executable, str(SAMPLES / "blocking_aiohttp.py")]  # time.sleep + sock.recv
HASHING = [sys.executable, str(SAMPLES / "loop_cpu_aiohttp.py")]   # hashlib.pbkdf2_hmac
ENV = {**os.environ, "PORT": "0"}


def _profile(rec):
    from pinkclinic.profile import build_profile

    return build_profile(rec)


@pytest.fixture(scope="module")
def hot_run(tmp_path_factory):
    """One default flame run of the hot sample, shared by the tests that read its recording
    (the hot function, the exports, --lines): each run costs ~10 s, the reading under 1 s."""
    dest = tmp_path_factory.mktemp("hot")
    proc = run_cli("flame", "--dest", str(dest), "--name", "hot", "--load", "-c 5 -d 3", "--", *HOT,
                   timeout=120, env=ENV)
    return dest, proc


def test_the_hot_function_has_the_largest_busy_share_among_app_frames(hot_run):
    dest, proc = hot_run
    assert proc.returncode == 0, proc.stderr
    rec = dest / "hot.pinkclinic-flame"
    profile = _profile(rec)
    app = [s for s in profile.functions(idle=False) if profile.frames[s.frame].area == "app"
           and not profile.frames[s.frame].file.startswith("<")]
    top = max(app, key=lambda s: s.self)
    assert profile.frames[top.frame].function == "render_report"
    assert top.self / profile.total(idle=False) > 0.5
    assert "render_report" in proc.stdout
    # one vocabulary: the terminal's "self" is the report's (of the same samples)
    line = next(ln for ln in proc.stdout.splitlines() if "render_report" in ln)
    shown_self = float(line.split("%")[0])
    assert shown_self == pytest.approx(100 * top.self / profile.total(idle=False), abs=0.051)
    assert "self: its own lines" in proc.stdout
    html = (dest / "hot.pinkclinic-flame.html").read_text()
    assert "render_report" in flame_functions(html)  # in the graph's data, not just the page


def test_exports_from_a_flame_recording(hot_run, tmp_path):
    dest, proc = hot_run
    assert proc.returncode == 0, proc.stderr
    rec = dest / "hot.pinkclinic-flame"
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
    # 2 s: render_report held 98% of the busy time of a 2 s run beside a busy core
    proc = run_cli("flame", "--profiler", "pyinstrument", "--dest", str(tmp_path), "--name", "pi",
                   "--load", "-c 5 -d 2", "--", *HOT, timeout=120, env=ENV)
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
    out, _ = finish(proc)
    assert proc.returncode == 1
    assert "run target-crashed" in out and "SIGKILL" in out  # the console says why
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


def test_lines_split_a_function_into_its_lines(hot_run):
    dest, proc = hot_run
    assert proc.returncode == 0, proc.stderr
    rec = dest / "hot.pinkclinic-flame"

    def render_report_frames(*flags):
        out = run_cli("report", str(rec), "--format", "speedscope", *flags)
        assert out.returncode == 0, out.stderr
        return [f for f in json.loads(out.stdout)["shared"]["frames"] if f["name"] == "render_report"]

    assert len(render_report_frames()) == 1            # keyed by function and file
    assert len(render_report_frames("--lines")) >= 2   # the loop's lines apart


def _on_stack(profile, name: str, *, idle: bool = True) -> float:
    """Samples with a frame called ``name`` anywhere on the stack."""
    ids = {i for i, f in enumerate(profile.frames) if f.function == name}
    return sum(w for _, frames, w, _ in profile.iter_stacks(idle=idle) if ids.intersection(frames))


def test_cpu_view_of_a_blocking_server_leaves_the_waiting_out(tmp_path):
    """The default is a CPU view: py-spy records without --idle, so the loop blocked in
    sock.recv (lookup_session) and the backend in time.sleep (_serve) are not busy."""
    from tests.browser import open_report

    proc = run_cli("flame", "--dest", str(tmp_path), "--name", "cpu", "--load", "-c 5 -d 3",
                   "--", *BLOCKING, timeout=120, env=ENV)
    assert proc.returncode == 0, proc.stderr
    rec = tmp_path / "cpu.pinkclinic-flame"
    m = manifest(rec)
    profile = _profile(rec)
    spy = m["streams"]["pyspy"]
    one_thread = (m["timings"]["stopping"] - spy["started"]) * spy["rate_hz"]  # always on CPU
    assert one_thread > 250
    # with --idle recorded (the old default) each was on ~100% of its thread's samples
    assert _on_stack(profile, "lookup_session") < 0.1 * one_thread
    assert _on_stack(profile, "_serve") < 0.1 * one_thread
    assert spy["idle"] is False and "samples on CPU (recorded without --idle" in proc.stdout
    with open_report(tmp_path / "cpu.pinkclinic-flame.html") as r:
        cb = r.page.locator('#flame .pf-areas input[data-area="idle"]')
        assert cb.is_disabled() and not cb.is_checked()
        title = r.page.locator("#flame .pf-areas label.pf-disabled").get_attribute("title")
        assert "recorded without --idle" in title


def test_idle_gives_the_wall_clock_view_in_the_console_the_page_and_the_exports(tmp_path):
    from tests.browser import open_report

    # 2 s: the share below is of the load's length (0.92 against 0.5 in a 2 s run beside a
    # busy core, ~180 samples), so a longer load adds nothing to it
    proc = run_cli("flame", "--idle", "--dest", str(tmp_path), "--name", "wall", "--load",
                   "-c 5 -d 2", "--", *BLOCKING, timeout=120, env=ENV)
    assert proc.returncode == 0, proc.stderr
    rec = tmp_path / "wall.pinkclinic-flame"
    m = manifest(rec)
    assert m["streams"]["pyspy"]["idle"] is True
    profile = _profile(rec)
    assert profile.meta["idle"] is True
    load_s = m["timings"]["load_end"] - m["timings"]["load_start"]
    # the loop thread waits in lookup_session's recv for most of the load
    assert _on_stack(profile, "lookup_session") > 0.5 * load_s * profile.meta["rate_hz"]
    assert "hottest app functions (wall clock)" in proc.stdout and "lookup_session" in proc.stdout
    exported = run_cli("report", str(rec), "--format", "json")
    assert exported.returncode == 0, exported.stderr
    doc = json.loads(exported.stdout)
    assert doc["meta"]["idle"] is True and any(s["idle"] for s in doc["stacks"])
    with open_report(tmp_path / "wall.pinkclinic-flame.html") as r:
        page = r.page
        s = page.evaluate("PinkFlame.instances.flame.snapshot()")
        assert s["idle"] is True
        assert s["total"] == pytest.approx(profile.total(idle=True))
        idle = page.locator('#flame .pf-areas input[data-area="idle"]')
        assert idle.is_checked() and idle.is_enabled()
        page.locator("#flame .pf-table tbody td.pf-name", has_text="lookup_session").first.click()
        assert page.evaluate("PinkFlame.instances.flame.snapshot().selected") == "lookup_session"
        page.uncheck('#flame .pf-areas input[data-area="idle"]')  # the CPU view, same frame
        s = page.evaluate("PinkFlame.instances.flame.snapshot()")
        assert s["idle"] is False and s["selected"] == "lookup_session"


def test_native_adds_c_frames(tmp_path):
    """py-spy refuses --native with --nonblocking: flame samples in blocking mode then."""
    from pinkclinic.profile.ranking import app_hotspots

    proc = run_cli("flame", "--native", "--dest", str(tmp_path), "--name", "nat", "--load",
                   "-c 4 -d 3", "--", *HASHING, timeout=120, env=ENV)
    assert proc.returncode == 0, proc.stderr
    rec = tmp_path / "nat.pinkclinic-flame"
    spy = manifest(rec)["streams"]["pyspy"]
    assert spy["native"] is True and spy["nonblocking"] is False
    profile = _profile(rec)
    busy = profile.total(idle=False)
    assert busy > 100
    native = sum(s.self for s in profile.functions() if profile.frames[s.frame].area == "native")
    assert native > 0.5 * busy  # pbkdf2 runs in libcrypto
    assert any(".so" in f.file for f in profile.frames if f.area == "native")
    top = app_hotspots(profile)[0]
    assert profile.frames[top.frame].function == "hash_password"
    assert "hash_password" in proc.stdout
    help_text = run_cli("flame", "--help").stdout
    assert "pauses the target" in " ".join(help_text.split())


@pytest.mark.skipif(shutil.which("perl") is None, reason="needs perl for a non-Python server")
def test_py_spy_failing_is_one_error_line_not_an_empty_report(tmp_path):
    """A server py-spy cannot sample (not Python): flame must fail at once, saying why."""
    port = free_port()
    proc = run_cli("flame", "--dest", str(tmp_path), "--name", "perl", "--port", str(port),
                   "--load", "-c 1 -d 1", "--", "perl", "-e", PERL_SERVER, str(port), timeout=120)
    assert proc.returncode == 1, proc.stdout
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("pinkclinic: error:")]
    assert len(errors) == 1 and "Traceback" not in proc.stderr
    assert "py-spy" in errors[0] and "no Python process" in errors[0]
    assert f"listens on port {port}" in errors[0]  # it did not wait for py-spy's start window
    assert "report:" not in proc.stdout and "load running" not in proc.stderr  # no load wasted
    wait_for(lambda: not tagged_processes(os.environ[TAG_VAR]), timeout=5,
             what="the perl server to be stopped")


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to drop CAP_SYS_PTRACE")
def test_flame_on_a_pid_that_is_not_permitted(tmp_path):
    from tests.helpers import server

    port = free_port()
    with server(HOT, port, env={**os.environ, "PORT": str(port)}) as srv:
        # without CAP_SYS_PTRACE, root may not trace a process that holds it
        proc = subprocess.run(["setpriv", "--bounding-set", "-sys_ptrace",
                               *pinkclinic_cmd("flame", "--dest", str(tmp_path), "--pid",
                                               str(srv.pid), "--duration", "2")],
                              capture_output=True, text=True, timeout=60)
        assert srv.poll() is None
    assert proc.returncode == 1
    errors = [ln for ln in proc.stderr.splitlines() if "error" in ln]
    assert len(errors) == 1 and "Traceback" not in proc.stderr
    assert f"not permitted to inspect PID {srv.pid}" in errors[0]
