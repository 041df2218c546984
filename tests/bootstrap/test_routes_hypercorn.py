"""Feature ``routes`` under hypercorn: its CLI serving an ASGI app and a WSGI app (the mode
hypercorn picks is kept), and ``hypercorn.asyncio.serve`` called by the app's own code.
Each request's method, path (never the query string), status and time are written."""

from __future__ import annotations

import signal

import pytest

from tests.bootstrap.probe_env import get, probe_env, python, wait_for
from tests.bootstrap.test_routes_feature import _requests
from tests.helpers import free_port, server

pytest.importorskip("hypercorn")

APPS = """
import asyncio, time

async def asgi(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["path"] == "/boom":
        raise RuntimeError("boom")
    if scope["path"].startswith("/slow"):
        await asyncio.sleep(0.05)
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

def wsgi(environ, start_response):
    time.sleep(0.02)
    start_response("202 Accepted", [("Content-Type", "text/plain")])
    return [b"ok"]
"""

SERVE = """
import asyncio, sys
from hypercorn.asyncio import serve
from hypercorn.config import Config
from apps import asgi
config = Config()
config.bind = [f"127.0.0.1:{sys.argv[1]}"]
asyncio.run(serve(asgi, config))
"""


def _run(tmp_path, cmd, port, paths):
    (tmp_path / "apps.py").write_text(APPS)
    rec = tmp_path / "rec"
    rec.mkdir()
    env = probe_env(rec, ["routes"], extra_path=[tmp_path], routes_ms=50)
    with server(cmd, port, env=env, cwd=str(tmp_path)) as srv:
        answers = [get(port, p) for p in paths]
        wait_for(lambda: len(_requests(rec)[1]) >= len(paths))
        srv.send_signal(signal.SIGTERM)
    apps, rows = _requests(rec)
    assert not [p for p in rec.iterdir() if "s3cret-hyper" in p.read_text(errors="replace")]
    return answers, apps, {path: (method, status, dur) for method, path, status, dur in rows}


@pytest.mark.parametrize("how", ["cli", "serve"])
def test_hypercorn_asgi_requests_are_timed(tmp_path, how):
    port = free_port()
    cmd = ([python(), "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", "apps:asgi"]
           if how == "cli" else [python(), "-c", SERVE, str(port)])
    answers, apps, by = _run(tmp_path, cmd, port, ["/slow/17?token=s3cret-hyper", "/fast", "/boom"])
    assert b"201" in answers[0] and b"500" in answers[2]
    assert [(a["server"], a["interface"]) for a in apps] == [("hypercorn", "asgi")]
    assert set(by) == {"/slow/17", "/fast", "/boom"}, by
    assert by["/slow/17"][:2] == ("GET", 201) and by["/fast"][1] == 201 and by["/boom"][1] == 500
    assert by["/slow/17"][2] >= 45 > by["/fast"][2]


def test_hypercorn_wsgi_app_keeps_its_mode(tmp_path):
    port = free_port()
    cmd = [python(), "-m", "hypercorn", "--bind", f"127.0.0.1:{port}", "apps:wsgi"]
    answers, apps, by = _run(tmp_path, cmd, port, ["/item/1", "/item/2"])
    assert all(b"202" in a for a in answers), answers
    assert [(a["server"], a["interface"]) for a in apps] == [("hypercorn", "wsgi")]
    assert set(by) == {"/item/1", "/item/2"} and all(v[1] == 202 and v[2] >= 15 for v in by.values())
