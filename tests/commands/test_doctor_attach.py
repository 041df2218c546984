"""doctor --pid with the probe injected: the same verdict and culprit as a launched run
of the same sample (aiohttp, uvicorn with uvloop, a bare asyncio loop, gunicorn with two
workers), no request lost and nothing left behind, attaching again without stacking, and a
report from the out-of-process signals when it is refused (see also
test_doctor_attach_refusals.py).

Where injection does not work on the machine (``INJECTS``), every attach is refused: the
tests then check the refusal instead."""

from __future__ import annotations

import json
import os
import signal
import sys
import urllib.request

import pytest

from pinkclinic.probe import read_probe_file
from pinkclinic.session.probe_attach import python_pids
from pinkclinic.target.env import probe_env
from tests.commands.culprit_stacks import check_culprits
from tests.commands.doctor_run import finish, start, wait_for
from tests.helpers import SAMPLES, free_port, run_cli, server
from tests.session.test_probe_attach import APPS, INJECTS, Load, dump_state


def _diagnosis(rec):
    return json.loads((rec / "diagnosis.json").read_text())


@pytest.mark.parametrize("sample,culprit", [("blocking_aiohttp.py", "lookup_session"),
                                            ("blocking_starlette.py", "fetch_exchange_rates")],
                         ids=["aiohttp", "uvicorn-uvloop"])
def test_attached_blocking_sample_gets_the_launched_verdict_and_culprit(sample, culprit, tmp_path):
    port = free_port()
    cmd = [sys.executable, str(SAMPLES / sample)]
    with server(cmd, port, env={**os.environ, "PORT": str(port)}) as srv:
        proc = run_cli("doctor", "--dest", str(tmp_path), "--pid", str(srv.pid),
                       "--load", "-c 10 -d 3 /", timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert srv.poll() is None
    rec = tmp_path / f"{srv.pid}.pinkclinic-doctor"
    diagnosis = _diagnosis(rec)
    check_culprits(diagnosis, rec)  # attached or refused: py-spy's stacks alone then
    html = (tmp_path / f"{srv.pid}.pinkclinic-doctor.html").read_text()
    assert f"In-process probe, PID {srv.pid}: " in html
    if not INJECTS:
        assert "probe not injected" in proc.stderr
        return
    assert "probe not injected" not in proc.stderr
    way = os.environ.get("PINKCLINIC_INJECT", "hypno")  # the way in: hypno unless forced
    assert f"In-process probe, PID {srv.pid}: attached ({way}, " in html
    top = diagnosis["issues"][0]
    assert diagnosis["verdict"] == top["category"] == "loop-blocking-call"
    assert top["culprits"][0]["function"] == culprit
    # the task snapshots of doctor's waits analysis (PROBE_OPTIONS' waits_ms) come too
    _, records = read_probe_file(tmp_path / f"{srv.pid}.pinkclinic-doctor" / f"probe-{srv.pid}.jsonl")
    assert any(r["type"] == "waits" and r.get("source") != "threads" for r in records)
    assert "waits" not in diagnosis["signals_missing"]


def test_refused_injection_still_gives_a_report(tmp_path):
    """A process that already runs the launched probe is not injected a second time: one
    line says so, and the report comes from the out-of-process signals."""
    port = free_port()
    (tmp_path / "own").mkdir()
    env = {**os.environ, "PORT": str(port), **probe_env(tmp_path / "own")}
    cmd = [sys.executable, str(SAMPLES / "hello_asyncio.py"), str(port)]
    with server(cmd, port, env=env) as srv:
        proc = run_cli("doctor", "--dest", str(tmp_path), "--pid", str(srv.pid),
                       "--load", "-c 2 -d 2 /", timeout=120)
        assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if "probe not injected" in ln]
    assert len(lines) == 1
    if INJECTS:
        assert "already runs pinkclinic's probe" in lines[0]
    rec = tmp_path / f"{srv.pid}.pinkclinic-doctor"
    assert not (rec / f"probe-{srv.pid}.jsonl").exists()
    assert {"loop-lag", "waits"} <= set(_diagnosis(rec)["signals_missing"])
    assert (tmp_path / f"{srv.pid}.pinkclinic-doctor.html").exists()


def _refusals(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if "probe not injected" in ln]


def _verdict_and_culprit(rec) -> tuple[str, str | None]:
    d = _diagnosis(rec)
    culprits = d["issues"][0]["culprits"] if d["issues"] else []
    return d["verdict"], culprits[0]["function"] if culprits else None


def _launched(tmp_path, cmd: list[str], load: str) -> tuple[str, str | None]:
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", "launched", "--load", load,
                   "--", *cmd, timeout=120, env={**os.environ, "PORT": "0"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return _verdict_and_culprit(tmp_path / "launched.pinkclinic-doctor")


def _doctor_pid_under_load(tmp_path, name: str, pid: int, port: int):
    """``doctor --pid`` with its own load while an outside client keeps requesting: the
    run succeeds and not one of the outside client's requests fails."""
    load = Load(port)
    load.start()
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", name, "--pid", str(pid),
                   "--load", "-c 10 -d 3 /", timeout=120)
    load.stop()
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert load.failed == [] and load.ok > 0
    return proc


def _stream(rec, pid: int) -> list[dict]:
    return read_probe_file(rec / f"probe-{pid}.jsonl")[1]


def test_bare_asyncio_server_attached_like_launched_left_as_it_was_and_attached_again(tmp_path):
    """No framework: asyncio.start_server and a handler that blocks the loop in
    read_config. Requests run through the attach, the recording and the removal; none
    fails, and no probe thread, GC callback or module is left. Attaching again works,
    and a second doctor attaching while the first is in is refused, not stacked."""
    launched = _launched(tmp_path, [sys.executable, str(APPS / "loop_server.py"),
                                    str(free_port()), "block"], "-c 10 -d 3 /")
    assert launched == ("loop-blocking-call", "read_config")

    port = free_port()
    with server([sys.executable, str(APPS / "loop_server.py"), str(port), "block"], port) as srv:
        before = dump_state(srv.pid, tmp_path) if INJECTS else None
        proc = _doctor_pid_under_load(tmp_path, "first", srv.pid, port)
        rec = tmp_path / "first.pinkclinic-doctor"
        result = json.loads((rec / "load-result.json").read_text())
        assert result["errors"] == result["non2xx"] == result["timeouts"] == 0
        if not INJECTS:
            assert len(_refusals(proc.stderr)) == 1
            assert {"loop-lag", "gc", "tasks"} <= set(_diagnosis(rec)["signals_missing"])
            return
        assert _refusals(proc.stderr) == []
        assert _verdict_and_culprit(rec) == launched
        assert dump_state(srv.pid, tmp_path) == before

        # again, twice at once: the second doctor is refused while the first is in
        again = start("doctor", tmp_path, "again", "--pid", str(srv.pid), "--no-load")
        stream = tmp_path / "again.pinkclinic-doctor" / f"probe-{srv.pid}.jsonl"
        wait_for(lambda: stream.exists() and '"attach-ready"' in stream.read_text(),
                 proc=again, what="the second attach")
        stacked = run_cli("doctor", "--dest", str(tmp_path), "--name", "stacked", "--pid",
                          str(srv.pid), "--duration", "1", timeout=120)
        _, err = finish(again, signal.SIGINT)  # Ctrl-C ends a --no-load recording
        assert again.returncode == 0 and _refusals(err) == [], err[-3000:]
        assert stacked.returncode == 0, stacked.stderr[-3000:]
        lines = _refusals(stacked.stderr)
        assert len(lines) == 1 and "another pinkclinic probe is attached" in lines[0], stacked.stderr
        assert not (tmp_path / "stacked.pinkclinic-doctor" / f"probe-{srv.pid}.jsonl").exists()
        kinds = [r["type"] for r in _stream(tmp_path / "again.pinkclinic-doctor", srv.pid)]
        assert kinds.count("attached") == kinds.count("detached") == 1, kinds
        assert "lag" in kinds
        assert dump_state(srv.pid, tmp_path) == before
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert r.read() == b"ok"


def test_gunicorn_with_two_workers_every_process_attached_like_launched(tmp_path):
    """The master and both workers get the probe and give it back; the verdict and the
    culprit are the launched run's."""
    app = ["-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "4", "--chdir",
           str(SAMPLES), "io_wait_flask:app"]
    launched = _launched(tmp_path, [sys.executable, *app, "-b", "127.0.0.1:0"], "-c 10 -d 3 /")
    assert launched == ("io-wait", "call_upstream")

    port = free_port()
    with server([sys.executable, *app, "-b", f"127.0.0.1:{port}"], port) as srv:
        wait_for(lambda: len(python_pids(srv.pid)) == 3, timeout=20, what="both workers")
        pids = sorted(python_pids(srv.pid))
        proc = _doctor_pid_under_load(tmp_path, "attached", srv.pid, port)
        assert sorted(python_pids(srv.pid)) == pids  # no worker lost or restarted
    rec = tmp_path / "attached.pinkclinic-doctor"
    outcomes = json.loads((rec / "manifest.json").read_text())["attach"]["probe"]
    assert sorted(outcomes) == sorted(str(p) for p in pids)
    if not INJECTS:
        assert len(_refusals(proc.stderr)) == 3
        assert all(o.startswith("refused: ") for o in outcomes.values())
        return
    assert _refusals(proc.stderr) == []
    for pid, outcome in outcomes.items():
        assert outcome.startswith("attached (") and outcome.endswith("; removed after the run"), outcome
        kinds = {r["type"] for r in _stream(rec, int(pid))}
        assert {"attached", "attach-ready", "detached"} <= kinds, (pid, kinds)
    assert _verdict_and_culprit(rec) == launched
