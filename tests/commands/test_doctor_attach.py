"""doctor --pid with the probe injected: the same verdict and culprit as a launched run
of the same sample, and a report from the out-of-process signals when it is refused."""

from __future__ import annotations

import json
import os
import sys

import pytest

from pinkclinic.probe import read_probe_file
from pinkclinic.target.env import probe_env
from tests.commands.culprit_stacks import check_culprits
from tests.helpers import SAMPLES, free_port, run_cli, server
from tests.session.test_probe_attach import INJECTS


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
    assert f"In-process probe, PID {srv.pid}: attached (hypno, " in html
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
