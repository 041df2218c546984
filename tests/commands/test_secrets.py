"""Secrets given on the command line are sent, but never written or shown: a real server
that answers 401 without the right credentials, doctor and bench run against it, and
every file of the recording, the HTML, the JSON and the terminal searched for them."""

from __future__ import annotations

import json
import os
import sys

from tests.helpers import free_port, run_cli, server

# A server that answers 200 only with both credentials, so a run that passes sent them
# (it reads them from its environment, which is never recorded).
CHECKING = r"""
import asyncio, os, sys
NEED = [n.encode() for n in os.environ["NEED"].split("|")]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
NO = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\nno"
class H(asyncio.Protocol):
    def connection_made(self, t):
        self.t, self.buf = t, b""
    def data_received(self, data):
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            low = head.lower()
            self.t.write(OK if all(n in low for n in NEED) else NO)
async def main():
    srv = await asyncio.get_running_loop().create_server(H, "127.0.0.1", int(os.environ.get("PORT") or sys.argv[1]))
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
"""
SECRETS = ("s3cret-a", "s3cret-b", "s3cret-c", "s3cret-d", "s3cret-e")
NEED = {"NEED": "authorization: bearer s3cret-a|cookie: sid=s3cret-b"}


def _leaks(texts: dict[str, str]) -> list[str]:
    return [f"{where}: {s}" for where, t in texts.items() for s in SECRETS if s in t.lower()]


def test_doctor_sends_secrets_but_never_writes_them(tmp_path):
    load = ('-c 2 -d 2 -H "Authorization: Bearer s3cret-a" -H "Cookie: sid=s3cret-b" '
            '-H "X-Api-Key: s3cret-c" /items?access_token=s3cret-e')
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", "sec", "--load", load, "--",
                   sys.executable, "-c", CHECKING, "--token", "s3cret-d", timeout=90,
                   env={**os.environ, "PORT": "0", **NEED})
    assert proc.returncode == 0, proc.stderr
    rec = tmp_path / "sec.pinkclinic-doctor"
    result = json.loads((rec / "load-result.json").read_text())
    assert result["2xx"] > 0 and result["4xx"] == 0, "the credentials were not sent"
    texts = {p.name: p.read_text(errors="replace") for p in rec.iterdir() if p.is_file()}
    texts["html"] = (tmp_path / "sec.pinkclinic-doctor.html").read_text()
    texts["terminal"] = proc.stdout + proc.stderr
    assert not _leaks(texts)
    # what was redacted still says what was sent
    manifest = json.loads(texts["manifest.json"])
    assert "Authorization: Bearer ***" in manifest["options"]["load"]
    assert manifest["command"][-2:] == ["--token", "***"]
    assert "access_token=***" in texts["load.jsonl"]
    assert "Cookie: ***" in json.loads(texts["diagnosis.json"])["recommendation"]

    for fmt in ("text", "collapsed"):
        report = run_cli("report", "--format", fmt, str(rec), timeout=60)
        assert report.returncode == 0, report.stderr
        assert not _leaks({f"report --format {fmt}": report.stdout + report.stderr})


def test_bench_never_shows_a_url_password_or_cookie():
    port = free_port()
    with server([sys.executable, "-c", CHECKING, str(port)], port, env={**os.environ, **NEED}):
        # the URL's user:password becomes Basic auth, which this server does not check
        url = f"http://user:s3cret-c@127.0.0.1:{port}/"
        args = ("-c", "1", "-a", "20", "-H", "Authorization: Bearer s3cret-a",
                "-H", "Cookie: sid=s3cret-b", url)
        text = run_cli("bench", *args, timeout=60)
        as_json = run_cli("bench", "-j", *args, timeout=60)
    assert text.returncode == 0 and as_json.returncode == 0, text.stderr + as_json.stderr
    assert json.loads(as_json.stdout)["2xx"] == 20
    assert not _leaks({"bench": text.stdout + text.stderr, "bench -j": as_json.stdout + as_json.stderr})
    assert "user:***@127.0.0.1" in text.stdout + text.stderr
