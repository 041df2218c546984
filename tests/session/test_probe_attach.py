"""The probe injected into live servers (``--pid``): it records, it leaves the process as
it was, it can come back, and where it cannot get in it says why in one line.

The same tests hold where injection works (hypno installed, ptrace allowed) and where
it does not: there, each must refuse in one line and leave no probe stream."""

from __future__ import annotations

import ast
import os
import sys
import threading
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from pinkclinic import procs
from pinkclinic.probe import read_probe_file
from pinkclinic.recording import Recording
from pinkclinic.session.probe_attach import InjectedProbe, python_pids
from pinkclinic.target.gdbcall import gdb_problem_cached
from pinkclinic.target.inject import InjectionRefused, run_script
from tests.helpers import ROOT, free_port, server

APPS = Path(__file__).resolve().parent / "apps"
PY = sys.executable
PY313 = Path.home() / ".pyenv/versions/3.13.0/bin/python3.13"
FEATURES = ["loop", "gc", "tasks", "threads"]


def _ptrace_allowed() -> bool:
    try:
        scope = Path("/proc/sys/kernel/yama/ptrace_scope").read_text().strip()
    except OSError:
        scope = "0"
    return os.geteuid() == 0 or scope == "0"


def _hypno() -> bool:
    try:
        import hypno  # noqa: F401
    except ImportError:
        return False
    return True


def _injects() -> bool:
    """Whether the probe gets into a process on this machine. ``PINKCLINIC_INJECT=gdb``
    in the tests' environment runs them the way gdb allows here (on a machine where it
    cannot call functions: every attach refused)."""
    if os.environ.get("PINKCLINIC_INJECT") == "gdb":
        return gdb_problem_cached() is None
    return _hypno() and _ptrace_allowed()


INJECTS = _injects()


def dump_state(pid: int, tmp_path: Path) -> dict:
    """What the process holds that a probe could leave behind, read by injected code."""
    out = tmp_path / f"state-{time.monotonic_ns()}.txt"
    script = tmp_path / "dump.py"
    script.write_text(f"OUT = {str(out)!r}\n" + (APPS / "state_dump.py").read_text())
    run_script(pid, str(script))
    for _ in range(100):
        if out.exists() and out.stat().st_size:
            return ast.literal_eval(out.read_text())
        time.sleep(0.02)
    raise AssertionError("the state dump did not run")


class Load(threading.Thread):
    """Requests one after another until stopped; counts the failures."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.url, self.ok, self.failed, self.halt = f"http://127.0.0.1:{port}/", 0, [], threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + 30
        while not self.halt.is_set() and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    r.read()
                self.ok += 1
            except OSError as e:
                self.failed.append(repr(e))

    def stop(self) -> None:
        self.halt.set()
        self.join(10)


def _records(rec: Recording, pid: int) -> list[dict]:
    return read_probe_file(rec.file(f"probe-{pid}.jsonl"))[1]


def _attach(tmp_path: Path, pid: int, name: str) -> tuple[InjectedProbe, Recording]:
    rec = Recording.create(tmp_path, name, "doctor")
    probe = InjectedProbe(FEATURES, {"block_ms": 30})
    probe.start(rec, SimpleNamespace(pid=pid))
    return probe, rec


KINDS = [pytest.param([PY], id="asyncio"), pytest.param([PY, "uvloop"], id="uvloop"),
         pytest.param([str(PY313)], id="asyncio-3.13",
                      marks=pytest.mark.skipif(not PY313.exists(), reason="no pyenv 3.13"))]


@pytest.mark.parametrize("kind", KINDS)
def test_attach_records_detaches_and_leaves_the_process_as_it_was(kind, tmp_path):
    port = free_port()
    cmd = [kind[0], str(APPS / "loop_server.py"), str(port), *kind[1:]]
    with server(cmd, port, cwd=tmp_path) as proc:
        if not INJECTS:
            probe, rec = _attach(tmp_path, proc.pid, "refused")
            assert len(probe.notes) == 1 and "\n" not in probe.notes[0]
            assert probe.notes[0].startswith(f"PID {proc.pid}: probe not injected")
            assert not rec.file(f"probe-{proc.pid}.jsonl").exists()
            return
        before = dump_state(proc.pid, tmp_path)
        load = Load(port)
        load.start()
        time.sleep(0.3)
        probe, rec = _attach(tmp_path, proc.pid, "first")
        assert probe.notes == [] and probe.pids == [proc.pid]
        time.sleep(1.5)
        probe.stop(rec)
        time.sleep(0.3)
        load.stop()
        assert load.failed == [] and load.ok > 10
        records = _records(rec, proc.pid)
        kinds = {r["type"] for r in records}
        assert {"attached", "lag", "tasks", "threads", "gcsum", "detached"} <= kinds
        loop = next(r for r in records if r["type"] == "loop")
        assert loop["loop"] == ("uvloop" if "uvloop" in kind else "asyncio")
        detached = next(r for r in records if r["type"] == "detached")
        assert detached["threads_left"] == []
        after = dump_state(proc.pid, tmp_path)
        assert after == before
        assert not any(n.startswith("pinkclinic-probe") for n in after["threads"])

        # again: a second attach starts afresh, and a concurrent one does not stack
        again, rec2 = _attach(tmp_path, proc.pid, "second")
        assert again.pids == [proc.pid]
        third, _ = _attach(tmp_path, proc.pid, "third")
        assert third.pids == [] and "another pinkclinic probe is attached" in third.notes[0]
        time.sleep(0.5)
        again.stop(rec2)
        assert any(r["type"] == "lag" for r in _records(rec2, proc.pid))
        assert dump_state(proc.pid, tmp_path) == before
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert r.read() == b"ok"


def test_attach_to_every_process_of_a_gunicorn_tree(tmp_path):
    port = free_port()
    cmd = [PY, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "hello_wsgi:app"]
    with server(cmd, port, cwd=ROOT / "tests/target/apps") as proc:
        for _ in range(100):  # both workers up
            if len(python_pids(proc.pid)) == 3:
                break
            time.sleep(0.05)
        pids = python_pids(proc.pid)
        assert len(pids) == 3
        probe, rec = _attach(tmp_path, proc.pid, "gunicorn")
        if not INJECTS:
            assert len(probe.notes) == 3
            return
        assert sorted(probe.pids) == sorted(pids), probe.notes
        for _ in range(20):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
        probe.stop(rec)
        assert probe.notes == [], {p: _records(rec, p) for p in pids}  # all confirmed removal
        for pid in pids:
            kinds = {r["type"] for r in _records(rec, pid)}
            assert {"attached", "attach-ready", "detached"} <= kinds, (pid, kinds)
        assert all(procs.is_alive(p) for p in pids)


def test_a_process_busy_in_python_is_refused_and_left_running(tmp_path, monkeypatch):
    monkeypatch.delenv("PINKCLINIC_INJECT", raising=False)  # forced gdb stops it anywhere
    script = tmp_path / "never.py"
    script.write_text("open('never-ran', 'w')\n")
    busy = tmp_path / "busy.py"
    busy.write_text("while True:\n    pass\n")
    import subprocess
    proc = subprocess.Popen([PY, str(busy)], cwd=tmp_path)
    try:
        time.sleep(0.3)
        with pytest.raises(InjectionRefused) as err:
            run_script(proc.pid, str(script), timeout=0.5)
        assert "\n" not in str(err.value)
        if INJECTS:
            assert "reached a safe point" in str(err.value)
        assert proc.poll() is None and not (tmp_path / "never-ran").exists()
        assert Path(f"/proc/{proc.pid}/stat").read_text().split(") ")[1][0] in "RS"
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.skipif(not INJECTS, reason="needs injection (hypno and ptrace)")
def test_the_probe_leaves_by_itself_when_pinkclinic_is_killed(tmp_path):
    """kill -9 of the pinkclinic that attached: the probe notices within a moment and
    removes itself, leaving the server as it was."""
    import signal
    import subprocess

    port = free_port()
    with server([PY, str(APPS / "loop_server.py"), str(port)], port, cwd=tmp_path) as proc:
        before = dump_state(proc.pid, tmp_path)
        code = ("import sys, time; from types import SimpleNamespace\n"
                "from pinkclinic.recording import Recording\n"
                "from pinkclinic.session.probe_attach import InjectedProbe\n"
                f"rec = Recording.create({str(tmp_path)!r}, 'killed', 'doctor')\n"
                f"InjectedProbe(['loop', 'gc']).start(rec, SimpleNamespace(pid={proc.pid}))\n"
                "print(rec.path, flush=True); time.sleep(60)\n")
        owner = subprocess.Popen([PY, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        rec_dir = Path(owner.stdout.readline().strip())
        stream = rec_dir / f"probe-{proc.pid}.jsonl"
        assert stream.exists()
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait()
        for _ in range(100):
            if '"detached"' in stream.read_text():
                break
            time.sleep(0.05)
        assert '"detached"' in stream.read_text()
        # the detach joins the probe's threads for up to 2 s and lists any still alive; on
        # a starved machine the last may end just after: wait for them, then compare
        for _ in range(200):
            if not _probe_threads(proc.pid):
                break
            time.sleep(0.05)
        assert dump_state(proc.pid, tmp_path) == before


def _probe_threads(pid: int) -> list[str]:
    names = []
    for comm in Path(f"/proc/{pid}/task").glob("*/comm"):
        try:
            names.append(comm.read_text().strip())
        except OSError:  # the thread ended meanwhile
            pass
    return [n for n in names if n.startswith("pkprobe")]


@pytest.mark.skipif(not INJECTS, reason="needs injection (hypno and ptrace)")
def test_a_loop_that_stops_and_runs_again_is_no_stall(tmp_path):
    """The attached probe has no hook on the loop's start and stop: a loop seen stopped
    must not count its pause as a stall, and is watched again when it runs."""
    import subprocess

    ready = tmp_path / "ready"
    proc = subprocess.Popen([PY, str(APPS / "phases.py"), str(ready)])
    try:
        for _ in range(200):
            if ready.exists():
                break
            time.sleep(0.01)
        probe, rec = _attach(tmp_path, proc.pid, "phases")
        assert probe.pids == [proc.pid], probe.notes
        restart = time.time() + 1.0  # phase 1 ends within 1.5 s of ready, then 0.6 s off
        proc.wait(20)
    finally:
        proc.kill()
        proc.wait()
    records = _records(rec, proc.pid)
    # the 0.6 s pause is no stall; a block of tens of ms is a busy machine's, the loop
    # thread waiting for a core, which the probe records like any other
    assert [r for r in records if r["type"] == "block" and r["dur_ms"] >= 300] == []
    assert any(r["type"] == "lag" and r["t"] > restart + 0.6 for r in records)
