"""The pure functions the CLI calls: render and export a recording."""

from __future__ import annotations

import json

import pytest

from pinkclinic.errors import UsageError
from pinkclinic.recording import Recording
from pinkclinic.render.flame_report import export_recording, report_flame


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


def test_report_next_to_the_folder(rec):
    path = report_flame(rec.path)
    assert path == rec.report_path and path.name == "9.pinkclinic-flame.html"
    assert "hot" in path.read_text()


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
