"""The per-route table of ``--on-port`` runs: the probe's feature ``routes`` times each
request inside a server it knows (uvicorn, gunicorn), the load coming from outside
(``pinkclinic bench`` as the on-port command, a ``--requests`` sequence of 2-3 routes,
``-a`` requests in all). A token in one step's query string must never be written;
a server the probe does not know (aiohttp) gets the one-line reason instead."""

from __future__ import annotations

import http.client
import json
import os
import shlex
import sys
from pathlib import Path

import pytest

from tests.helpers import SAMPLES, free_port, run_cli, server
from tests.session.test_probe_attach import INJECTS, dump_state

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
TOKEN = "s3cret-on-port"


def _doctor(tmp: Path, name: str, steps: list[dict], amount: int, target: list[str]):
    (tmp / "steps.json").write_text(json.dumps(steps))
    load = (f"{shlex.quote(sys.executable)} -m pinkclinic bench -n -c 1 -a {amount} "
            f"--requests {tmp / 'steps.json'} http://127.0.0.1:$PORT/")
    proc = run_cli("doctor", "--dest", str(tmp), "--name", name, "--on-port", load, "--", *target,
                   timeout=120, env={**os.environ, "PORT": "0"}, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    rec = tmp / f"{name}.pinkclinic-doctor"
    return proc, rec, json.loads((rec / "diagnosis.json").read_text())


def _no_token(proc, rec: Path) -> None:
    texts = [p.read_text(errors="replace") for p in rec.iterdir() if p.is_file()]
    texts += [rec.with_suffix(".pinkclinic-doctor.html").read_text(), proc.stdout, proc.stderr]
    assert not [t for t in texts if TOKEN in t]
    assert not list(rec.glob("requests-*.jsonl"))  # the raw paths are gone once templated


def test_uvicorn_starlette_routes_from_the_probe(tmp_path):
    steps = [{"path": f"/report/17?api_key={TOKEN}"}, {"path": "/health"},
             {"path": "/report/42"}, {"path": "/health"}]
    proc, rec, d = _doctor(tmp_path, "uv", steps, 100,  # ~3-5 s: a window doctor diagnoses
                           [sys.executable, str(HERE / "routes_server.py")])
    routes = d["routes"]
    assert routes["source"] == "probe" and routes["servers"] == ["uvicorn"], routes
    table = {r["path"]: r for r in routes["table"]}
    assert set(table) == {"/report/[<id>]", "/health"}, table
    report, health = table["/report/[<id>]"], table["/health"]
    # 100 requests sent one at a time, alternating: 50 each, all inside the load window
    assert report["count"] == health["count"] == 50, table
    assert report["errors"] == health["errors"] == 0
    assert report["p50_ms"] > 5 * health["p50_ms"], table  # 45-80 ms of CPU against well under 1
    lists = [i["culprits"] for i in d["issues"]] + [(d.get("saturation") or {}).get("culprits", [])]
    culprits = [c for cs in lists for c in cs if c["function"] == "render_report"]
    assert culprits and culprits[0]["routes"][0]["path"] == "/report/[<id>]", d["summary"]
    assert "routes" not in d["signals_missing"]
    _no_token(proc, rec)


def test_gunicorn_flask_routes_from_the_probe(tmp_path):
    steps = [{"path": f"/slow/7?token={TOKEN}"}, {"path": "/fast"}, {"path": "/fail/3"}]
    target = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:0",
              "tests.commands.routes_flask:app"]
    proc, rec, d = _doctor(tmp_path, "gu", steps, 30, target)
    routes = d["routes"]
    assert routes["source"] == "probe" and routes["servers"] == ["gunicorn"], routes
    table = {(r["method"], r["path"]): r for r in routes["table"]}
    assert set(table) == {("GET", "/slow/[<id>]"), ("GET", "/fast"), ("GET", "/fail/[<id>]")}
    slow, fast, fail = table["GET", "/slow/[<id>]"], table["GET", "/fast"], table["GET", "/fail/[<id>]"]
    # both workers' requests are in the one table: 10 each
    assert [abs(r["count"] - 10) <= 1 for r in (slow, fast, fail)] == [True] * 3, table
    assert fail["errors"] == fail["count"] and slow["errors"] == fast["errors"] == 0
    assert slow["p50_ms"] >= 25 and slow["p50_ms"] > 5 * fast["p50_ms"], table  # a 30 ms sleep
    _no_token(proc, rec)


def test_a_server_the_probe_does_not_know_gets_the_reason(tmp_path):
    load = f"{sys.executable} -m pinkclinic bench -n -c 2 -a 20 http://127.0.0.1:$PORT/"
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", "ah", "--on-port", load, "--",
                   sys.executable, str(SAMPLES / "healthy_aiohttp.py"),
                   timeout=90, env={**os.environ, "PORT": "0"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    d = json.loads((tmp_path / "ah.pinkclinic-doctor" / "diagnosis.json").read_text())
    why = ("The per-route table is not available with --on-port: the probe saw no app loaded "
           "by a server it knows (uvicorn, gunicorn")
    assert d["routes"]["table"] is None and d["routes"]["why"].startswith(why), d["routes"]
    assert "routes" in d["signals_missing"]
    assert why in proc.stdout


@pytest.mark.skipif(not INJECTS, reason="this machine does not let a process be injected")
def test_attached_uvicorn_gets_the_table_and_its_app_back(tmp_path):
    (tmp_path / "steps.json").write_text(json.dumps([{"path": f"/report/9?api_key={TOKEN}"},
                                                     {"path": "/health"}]))
    load = (f"{shlex.quote(sys.executable)} -m pinkclinic bench -n -c 1 -a 20 "
            f"--requests {tmp_path / 'steps.json'} http://127.0.0.1:$PORT/")
    port = free_port()
    with server([sys.executable, str(HERE / "routes_server.py")], port,
                env={**os.environ, "PORT": str(port), "KEEP_ALIVE_S": "300"}) as srv:
        kept = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # open across the attach:
        kept.request("GET", "/health")  # its connection's app is wrapped, and must be put back
        kept.getresponse().read()
        before = dump_state(srv.pid, tmp_path)
        proc = run_cli("doctor", "--dest", str(tmp_path), "--pid", str(srv.pid), "--on-port", load,
                       timeout=120)
        assert proc.returncode == 0, proc.stderr[-3000:]
        state = dump_state(srv.pid, tmp_path)
        kept.request("GET", "/health")
        assert kept.getresponse().read() == b"ok"
        kept.close()
        assert srv.poll() is None
    assert state["wrapped_apps"] == 0 and state["uvicorn_load"] == "uvicorn.config", state
    assert state["meta_path"] == before["meta_path"], state  # hooks never fired are gone too
    assert not [m for m in state["modules"] if m.startswith("pinkclinic_probe")], state
    rec = tmp_path / f"{srv.pid}.pinkclinic-doctor"
    d = json.loads((rec / "diagnosis.json").read_text())
    table = {r["path"]: r["count"] for r in d["routes"]["table"]}
    assert table == {"/report/[<id>]": 10, "/health": 10}, d["routes"]
    _no_token(proc, rec)
