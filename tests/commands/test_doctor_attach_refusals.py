"""doctor --pid where the probe cannot get in: the way in is missing, the target's Python
is too old, or ``PINKCLINIC_INJECT`` forces a way that cannot work here. Each says why
in one line, and the report comes from the out-of-process signals, listing what is
missing; the server is left alone.

``PINKCLINIC_INJECT=gdb`` is both halves: where gdb can call functions in a process
(:func:`pinkclinic.target.gdbcall.gdb_problem_cached`, the heap attach tests' check) the
probe goes in through gdb and out again; where it cannot ("Couldn't write extended state
status" on some machines), one line says so."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from pinkclinic.target.gdbcall import gdb_problem_cached
from tests.bootstrap.probe_env import python
from tests.helpers import free_port, run_cli, server
from tests.session.test_probe_attach import APPS, Load, dump_state

PY37 = python("3.7")  # pyenv's: older than the probe's 3.8
MISSING = {"gc", "loop-lag", "tasks", "waits"}


def _doctor(tmp_path: Path, pid: int, env: dict | None = None):
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", "attached", "--pid", str(pid),
                   "--load", "-c 2 -d 1 /", timeout=120, env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, tmp_path / "attached.pinkclinic-doctor"


def _check_refused(proc, rec: Path, pid: int, why: str) -> None:
    lines = [ln for ln in proc.stderr.splitlines() if "probe not injected" in ln]
    assert len(lines) == 1, proc.stderr
    assert lines[0] == (f"pinkclinic doctor: PID {pid}: probe not injected, so no loop-lag, gc, "
                        f"tasks or waits signals from it: {why}"), lines[0]
    assert "Traceback" not in proc.stderr
    assert not (rec / f"probe-{pid}.jsonl").exists()
    assert set(json.loads((rec / "diagnosis.json").read_text())["signals_missing"]) >= MISSING
    outcome = json.loads((rec / "manifest.json").read_text())["attach"]["probe"][str(pid)]
    assert outcome == f"refused: {why}"
    # the out-of-process signals: psutil's samples and py-spy's stacks
    assert len((rec / "processes.jsonl").read_text().splitlines()) > 2
    assert (rec / "pyspy.speedscope.json").stat().st_size > 0
    assert (rec.parent / f"{rec.name}.html").exists()


def _no_gdb_path(tmp_path: Path) -> str:
    """A PATH on which there is no gdb (pinkclinic finds py-spy beside its interpreter)."""
    empty = tmp_path / "bin"
    empty.mkdir()
    assert shutil.which("gdb", path=str(empty)) is None
    return str(empty)


@pytest.mark.parametrize("case", ["gdb-not-installed", "remote_exec-before-3.14"])
def test_a_forced_way_in_that_is_missing_is_refused_in_one_line(case, tmp_path):
    env, why = {
        "gdb-not-installed": ({"PINKCLINIC_INJECT": "gdb", "PATH": _no_gdb_path(tmp_path)},
                              "PINKCLINIC_INJECT=gdb: gdb is not installed"),
        "remote_exec-before-3.14": ({"PINKCLINIC_INJECT": "remote_exec"},
                                    "PINKCLINIC_INJECT=remote_exec: sys.remote_exec needs CPython "
                                    "3.14+, and the process runs {v}"),
    }[case]
    port = free_port()
    with server([sys.executable, str(APPS / "loop_server.py"), str(port)], port) as srv:
        load = Load(port)
        load.start()
        proc, rec = _doctor(tmp_path, srv.pid, env)
        load.stop()
        assert srv.poll() is None and load.failed == [] and load.ok > 0
    _check_refused(proc, rec, srv.pid, why.format(v=f"{sys.version_info[0]}.{sys.version_info[1]}"))


@pytest.mark.skipif(PY37 is None, reason="no pyenv CPython 3.7")
def test_a_python_too_old_for_the_probe_is_refused_in_one_line(tmp_path):
    port = free_port()
    with server([PY37, str(APPS / "loop_server.py"), str(port)], port) as srv:
        proc, rec = _doctor(tmp_path, srv.pid)
        assert srv.poll() is None
    _check_refused(proc, rec, srv.pid, "Python 3.7: the probe needs CPython 3.8+")
    result = json.loads((rec / "load-result.json").read_text())
    assert result["2xx"] > 0 and result["errors"] == 0


def test_forced_gdb_attaches_where_gdb_can_call_functions_and_refuses_where_not(tmp_path):
    problem = gdb_problem_cached()
    port = free_port()
    with server([sys.executable, str(APPS / "loop_server.py"), str(port)], port) as srv:
        before = dump_state(srv.pid, tmp_path) if problem is None else None
        load = Load(port)
        load.start()
        proc, rec = _doctor(tmp_path, srv.pid, {"PINKCLINIC_INJECT": "gdb"})
        load.stop()
        assert srv.poll() is None and load.failed == [] and load.ok > 0
        if problem is not None:  # e.g. "Couldn't write extended state status: Bad address."
            return _check_refused(proc, rec, srv.pid, f"PINKCLINIC_INJECT=gdb: gdb cannot call "
                                                       f"functions here ({problem[:160]})")
        assert "probe not injected" not in proc.stderr
        outcome = json.loads((rec / "manifest.json").read_text())["attach"]["probe"][str(srv.pid)]
        assert outcome.startswith("attached (gdb, ") and outcome.endswith("; removed after the run")
        assert not MISSING & set(json.loads((rec / "diagnosis.json").read_text())["signals_missing"])
        assert dump_state(srv.pid, tmp_path) == before


def test_an_unknown_way_in_is_a_usage_error(tmp_path):
    proc = run_cli("doctor", "--dest", str(tmp_path), "--pid", str(os.getpid()), "--no-load",
                   env={**os.environ, "PINKCLINIC_INJECT": "ptrace"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "pinkclinic: error: PINKCLINIC_INJECT='ptrace' is not a way to inject the probe: "
        "use auto, remote_exec, hypno, gdb"]
    assert list(tmp_path.iterdir()) == []
