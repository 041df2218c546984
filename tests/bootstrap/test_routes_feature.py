"""Feature ``routes`` in a real wsgiref server (stdlib, so also on CPython 3.8) and a
real werkzeug one (``flask``'s ``app.run``): each HTTP request's method, path (never its
query string), status and time in ``requests-<PID>.jsonl``; an app that raises is a 500."""

from __future__ import annotations

import signal

import pytest

from pinkclinic.jsonio import read_jsonl
from tests.bootstrap.probe_env import get, probe_env, python, wait_for
from tests.helpers import free_port, server

WSGIREF = """
import sys, time
from wsgiref.simple_server import make_server, WSGIRequestHandler
class Quiet(WSGIRequestHandler):
    def log_message(self, *a): pass
def app(environ, start_response):
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("boom")
    if environ["PATH_INFO"].startswith("/slow"):
        time.sleep(0.05)
    start_response("201 Created", [("Content-Type", "text/plain")])
    return [b"ok"]
make_server("127.0.0.1", int(sys.argv[1]), app, handler_class=Quiet).serve_forever()
"""

FLASK = """
import sys, time
from flask import Flask
app = Flask(__name__)
@app.route("/item/<int:n>")
def item(n):
    time.sleep(0.02)
    return "ok"
app.run("127.0.0.1", int(sys.argv[1]))
"""


def _requests(rec):
    paths = list(rec.glob("requests-*.jsonl"))
    records = [r for p in paths for r in read_jsonl(p)]
    rows = []
    for r in records:
        if r.get("type") == "requests":
            rows += [(*r["routes"][i], s, d / 1000) for i, s, d in zip(r["route"], r["status"], r["dur_us"])]
    return [r for r in records if r.get("type") == "app"], rows


@pytest.mark.parametrize("version", [None, "3.8"])
def test_wsgiref_requests_are_timed(tmp_path, version):
    exe = python(version)
    if exe is None:
        pytest.skip(f"no python{version}")
    port = free_port()
    env = probe_env(tmp_path, ["routes"], routes_ms=50)
    with server([exe, "-c", WSGIREF, str(port)], port, env=env) as srv:
        assert b"201" in get(port, "/slow/17?token=s3cret-wsgiref")
        assert b"201" in get(port, "/fast")
        assert b"500" in get(port, "/boom")
        wait_for(lambda: len(_requests(tmp_path)[1]) >= 3)
        srv.send_signal(signal.SIGTERM)
    apps, rows = _requests(tmp_path)
    assert [(a["server"], a["interface"]) for a in apps] == [("wsgiref", "wsgi")]
    by = {path: (method, status, dur) for method, path, status, dur in rows}
    assert set(by) == {"/slow/17", "/fast", "/boom"}, rows
    assert by["/slow/17"][:2] == ("GET", 201) and by["/fast"][1] == 201 and by["/boom"][1] == 500
    assert by["/slow/17"][2] >= 45 > by["/fast"][2]
    assert not [p for p in tmp_path.iterdir() if "s3cret-wsgiref" in p.read_text(errors="replace")]


def test_werkzeug_app_run_requests_are_timed(tmp_path):
    port = free_port()
    with server([python(), "-c", FLASK, str(port)], port,
                env=probe_env(tmp_path, ["routes"], routes_ms=50)):
        for n in (1, 2, 3):
            assert b"200" in get(port, f"/item/{n}")
        wait_for(lambda: len(_requests(tmp_path)[1]) >= 3)
    apps, rows = _requests(tmp_path)
    assert [a["server"] for a in apps] == ["werkzeug"]
    assert sorted(r[1] for r in rows) == ["/item/1", "/item/2", "/item/3"]
    assert all(r[2] == 200 and r[3] >= 15 for r in rows), rows
