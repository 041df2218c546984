"""The pure functions the CLI calls: render and export a recording."""

from __future__ import annotations

import json

import pytest

from pinkclinic.errors import UsageError
from pinkclinic.recording import Recording
from pinkclinic.render.flame_report import export_recording, report_flame
from tests.reports import assert_offline_csp, flame_functions


@pytest.fixture
def rec(tmp_path):
    r = Recording.create(tmp_path, "9", "flame", command=["python", "s.py"],
                         options={"rate": 100})
    r.update(target={"pid": 9}, status={"outcome": "completed"})
    r.register("pyspy", "pyspy.speedscope.json", format="speedscope", rate_hz=100)
    (r.path / "pyspy.speedscope.json").write_text(json.dumps({
        "$schema": "x", "shared": {"frames": [
            {"name": "thread (9): MainThread", "file": "", "line": 0},
            {"name": "main", "file": "/srv/s.py", "line": 1},
            {"name": "hot", "file": "/srv/s.py", "line": 5}]},
        "profiles": [{"type": "sampled", "name": 'Thread 9 "MainThread"', "unit": "seconds",
                      "startValue": 0, "endValue": 0.03, "samples": [[0, 1, 2], [0, 1, 2], [0, 1]],
                      "weights": [0.01, 0.01, 0.01]}]}, separators=(",", ":")))
    return r


def test_report_next_to_the_folder_shows_its_own_profile(rec, tmp_path):
    path = report_flame(rec.path)
    assert path == rec.report_path and path.name == "9.pinkclinic-flame.html"
    html = path.read_text()
    assert flame_functions(html) == {"main", "hot"}
    assert_offline_csp(html)
    # another recording's report holds that one's functions, not these
    other = Recording.create(tmp_path, "10", "flame", command=["python", "t.py"],
                             options={"rate": 100})
    other.update(target={"pid": 10}, status={"outcome": "completed"})
    other.register("pyspy", "pyspy.speedscope.json", format="speedscope", rate_hz=100)
    (other.path / "pyspy.speedscope.json").write_text(json.dumps({
        "$schema": "x", "shared": {"frames": [{"name": "serve", "file": "/srv/t.py", "line": 1},
                                              {"name": "cold", "file": "/srv/t.py", "line": 9}]},
        "profiles": [{"type": "sampled", "name": 'Thread 10 "MainThread"', "unit": "seconds",
                      "startValue": 0, "endValue": 0.01, "samples": [[0, 1]],
                      "weights": [0.01]}]}))
    assert flame_functions(report_flame(other.path).read_text()) == {"serve", "cold"}


@pytest.mark.parametrize("fmt", ["speedscope", "collapsed", "json"])
def test_exports(rec, tmp_path, fmt):
    out = export_recording(rec.path, fmt, tmp_path / f"out.{fmt}")
    text = out.read_text()
    if fmt == "collapsed":
        pre = 'process 9:"python s.py";thread (9): MainThread;main (/srv/s.py:1)'
        assert text.splitlines() == [f"{pre} 1", f"{pre};hot (/srv/s.py:5) 2"]
    else:
        assert json.loads(text)


def test_bad_format_and_unwritable_output(rec, tmp_path, capsys):
    with pytest.raises(UsageError, match="speedscope"):
        export_recording(rec.path, "svg", tmp_path / "x")
    with pytest.raises(UsageError, match="cannot write"):
        export_recording(rec.path, "json", tmp_path / "missing-dir" / "x.json")
    assert export_recording(rec.path, "collapsed", "-") is None
    assert "hot (/srv/s.py:5) 2" in capsys.readouterr().out


def _waiting_recording(tmp_path, name, extra, pyspy_idle=True):
    """A recording whose py-spy file has one busy and two waiting samples."""
    r = Recording.create(tmp_path, name, "flame", command=["python", "s.py"],
                         options={"extra": {"rate": 100, **extra}})
    r.update(target={"pid": 9}, status={"outcome": "completed"},
             timings={"listening": 100.0, "stopping": 103.5})
    r.register("pyspy", "pyspy.speedscope.json", format="speedscope", rate_hz=100,
               idle=pyspy_idle, started=100.5)
    (r.path / "pyspy.speedscope.json").write_text(json.dumps({
        "shared": {"frames": [
            {"name": "thread (9): MainThread", "file": "", "line": 0},
            {"name": "hot", "file": "/srv/s.py", "line": 5},
            {"name": "EpollSelector.select", "file": "/usr/lib/python3.11/selectors.py",
             "line": 468}]},
        "profiles": [{"type": "sampled", "name": 'Thread 9 "MainThread"', "unit": "seconds",
                      "startValue": 0, "endValue": 0.03, "samples": [[0, 1], [0, 2], [0, 2]],
                      "weights": [0.01, 0.01, 0.01]}]}, separators=(",", ":")))
    return r


def test_exports_default_to_the_view_the_report_opens_with(tmp_path):
    from pinkclinic.profile import build_profile

    cpu = _waiting_recording(tmp_path, "cpu", {"idle": False})
    wall = _waiting_recording(tmp_path, "wall", {"idle": True})

    def weight(rec, **kw):
        out = export_recording(rec.path, "collapsed", tmp_path / "x.txt", **kw)
        return sum(int(ln.rsplit(" ", 1)[1]) for ln in out.read_text().splitlines())

    assert weight(cpu) == 1 and weight(cpu, idle=True) == 3
    assert weight(wall) == 3 and weight(wall, idle=False) == 1
    # the options are read from options.extra, where the manifest keeps them
    assert build_profile(wall.path).meta["idle"] is True
    assert build_profile(cpu.path).meta["idle"] is False
    # without --idle py-spy dropped the waits itself: nothing is judged idle afterwards
    blind = build_profile(_waiting_recording(tmp_path, "blind", {}, pyspy_idle=False).path)
    assert blind.meta["idle_recorded"] is False and blind.total(idle=False) == 3


def test_header_says_how_long_and_how_the_run_ended(tmp_path):
    from pinkclinic.profile import build_profile
    from pinkclinic.render.flame import summary_lines

    rec = _waiting_recording(tmp_path, "h", {"idle": True})
    p = build_profile(rec.path)
    (line,) = summary_lines(p, p.meta)
    assert line == "3 samples over 3.0 s at 100 Hz, 1 busy; 1 thread in 1 process"
    rec.update(status={"outcome": "running"})  # pinkclinic was killed: never finished
    p = build_profile(rec.path)
    assert any("cut short" in ln for ln in summary_lines(p, p.meta))
    blind = build_profile(_waiting_recording(tmp_path, "b", {}, pyspy_idle=False).path)
    assert "on CPU (recorded without --idle" in summary_lines(blind, blind.meta)[0]


def test_report_idle_option_is_parsed_and_only_for_flame(rec, tmp_path):
    from tests.helpers import run_cli

    wall = _waiting_recording(tmp_path, "w", {"idle": True})
    out = run_cli("report", str(wall.path), "--format", "collapsed", "--no-idle")
    assert out.returncode == 0, out.stderr
    assert [ln.rsplit(" ", 1)[1] for ln in out.stdout.splitlines()] == ["1"]
    doctor = Recording.create(tmp_path, "d", "doctor", command=["python", "s.py"], options={})
    bad = run_cli("report", str(doctor.path), "--idle")
    assert bad.returncode == 2 and "applies to flame recordings" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
