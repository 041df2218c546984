"""``pinkclinic waits --pid``: the probe injected into a live server gives the same top
wait site as a launched run, costs no request, and leaves nothing behind; where it cannot
get in, one line says why and the report comes from the out-of-process signals.

Where injection does not work on the machine (see ``INJECTS``), every attach here is
refused: the tests then check the refusal instead."""

from __future__ import annotations

import json
import os
import sys

import pytest

from pinkclinic.target.env import probe_env
from tests.commands.culprit_stacks import check_recording_culprits
from tests.helpers import SAMPLES, free_port, run_cli, server
from tests.session.test_probe_attach import INJECTS, Load, dump_state

LOAD = "-c 10 -d 2"


def _waits(rec) -> dict:
    return json.loads((rec / "waits.json").read_text())


def _diagnosis(rec) -> dict:
    return json.loads((rec / "diagnosis.json").read_text())


def _refusals(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if "probe not injected" in ln]


def _attach(tmp_path, pid: int, *extra: str):
    proc = run_cli("waits", "--dest", str(tmp_path), "--pid", str(pid), "--load", f"{LOAD} /",
                   *extra, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, tmp_path / f"{pid}.pinkclinic-waits"


def _check_refused(proc, rec, pid: int) -> None:
    lines = _refusals(proc.stderr)
    assert len(lines) == 1
    assert f"PID {pid}: probe not injected, so no loop-lag, tasks or waits signals" in lines[0]
    assert not (rec / f"probe-{pid}.jsonl").exists()
    assert {"tasks", "waits"} <= set(_diagnosis(rec)["signals_missing"])
    assert _waits(rec)["sites"] == [] and "no wait sites" in proc.stdout
    assert (rec.parent / f"{rec.name}.html").exists()


def test_attached_lock_sample_has_the_launched_top_site_and_is_left_as_it_was(tmp_path):
    sample = SAMPLES / "lock_contention_aiohttp.py"
    launched = run_cli("waits", "--dest", str(tmp_path), "--name", "launched", "--load", LOAD,
                       "--", sys.executable, str(sample), timeout=120,
                       env={**os.environ, "PORT": "0"})
    assert launched.returncode == 0, launched.stderr[-3000:]
    top = _waits(tmp_path / "launched.pinkclinic-waits")["sites"][0]
    assert (top["function"], top["kind"]) == ("current_token", "lock")
    check_recording_culprits(tmp_path / "launched.pinkclinic-waits")

    port = free_port()
    with server([sys.executable, str(sample)], port,
                env={**os.environ, "PORT": str(port)}) as srv:
        before = dump_state(srv.pid, tmp_path) if INJECTS else None
        load = Load(port)  # requests through the attach, the recording and the detach
        load.start()
        proc, rec = _attach(tmp_path, srv.pid)
        load.stop()
        assert srv.poll() is None
        assert load.failed == [] and load.ok > 0
        if not INJECTS:
            return _check_refused(proc, rec, srv.pid)
        assert _refusals(proc.stderr) == []
        assert dump_state(srv.pid, tmp_path) == before  # no probe thread, hook or module left
    result = json.loads((rec / "load-result.json").read_text())
    assert result["2xx"] > 50 and result["errors"] == result["non2xx"] == result["timeouts"] == 0
    sites = _waits(rec)["sites"]
    assert (sites[0]["function"], sites[0]["kind"]) == (top["function"], top["kind"]), sites[:3]
    assert sites[0]["resource"] == top["resource"] and sites[0]["share"] >= 0.6
    assert _diagnosis(rec)["verdict"] == "lock-contention"
    check_recording_culprits(rec)
    assert "waits" not in _diagnosis(rec)["signals_missing"]
    assert "current_token" in proc.stdout and "waiting (max" in proc.stdout


@pytest.mark.skipif(not INJECTS, reason="needs injection (hypno and ptrace)")
def test_attached_gunicorn_workers_show_their_threads_waiting_on_the_lock(tmp_path):
    """Two gthread workers, each with one lock shared by its threads: the attached probe
    snapshots the threads that run no event loop, as a launched one does."""
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "8",
           "-b", f"127.0.0.1:{port}", "--chdir", str(SAMPLES), "lock_contention_flask:app"]
    with server(cmd, port) as srv:
        proc, rec = _attach(tmp_path, srv.pid, "--url", f"http://127.0.0.1:{port}")
        assert srv.poll() is None
    assert _refusals(proc.stderr) == []
    probes = sorted(rec.glob("probe-*.jsonl"))
    assert len(probes) == 3  # the master and both workers
    sites = _waits(rec)["sites"]
    assert (sites[0]["function"], sites[0]["kind"]) == ("fetch_account", "lock"), sites[:3]
    assert _diagnosis(rec)["verdict"] == "lock-contention"
    check_recording_culprits(rec)
    # no event loop in the tree: the threads' view alone, said in one line
    assert _waits(rec)["event_loops"] == 0
    assert sum("no event loop was seen" in x for x in proc.stdout.splitlines()) == 1
    assert 'id="threads-only">no event loop was seen' in (rec.parent / f"{rec.name}.html").read_text()


def test_refused_injection_says_why_in_one_line_and_still_reports(tmp_path):
    """A process that already runs the launched probe is not injected a second time."""
    port = free_port()
    (tmp_path / "own").mkdir()
    env = {**os.environ, "PORT": str(port), **probe_env(tmp_path / "own")}
    cmd = [sys.executable, str(SAMPLES / "hello_asyncio.py"), str(port)]
    with server(cmd, port, env=env) as srv:
        proc, rec = _attach(tmp_path, srv.pid)
        assert srv.poll() is None
    _check_refused(proc, rec, srv.pid)
    if INJECTS:
        assert "already runs pinkclinic's probe" in _refusals(proc.stderr)[0]
