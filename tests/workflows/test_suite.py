"""bench --suite: per-endpoint counts, the server launched and measured, a server that dies."""

from __future__ import annotations

import json
import os
import sys
import urllib.request

import pytest

from tests.helpers import run_cli
from tests.workflows.conftest import sample_cmd

SUITE = """
defaults:
  connections: 4
endpoints:
  - name: home
    path: /
    amount: 300
  - name: list
    path: /items
    duration: 1
  - name: create
    method: POST
    path: /items
    headers: {Content-Type: application/json}
    body: {name: widget}
    amount: 200
    connections: 2
"""


def test_suite_counts_match_what_the_server_counted(serve, tmp_path):
    s = serve("shop.py")
    f = tmp_path / "suite.yaml"
    f.write_text(SUITE)
    proc = run_cli("bench", "--suite", str(f), "-j", s.url, check=True)
    data = json.loads(proc.stdout)
    by = {e["name"]: e for e in data["endpoints"]}
    counted = s.counts()
    assert by["home"]["result"]["requests"]["total"] == 300 == counted["GET /"]
    assert by["create"]["result"]["requests"]["total"] == 200 == counted["POST /items"]
    assert by["create"]["result"]["statusCodeStats"] == {"201": {"count": 200}}
    got = by["list"]["result"]["requests"]["total"]
    assert got > 50 and got == counted["GET /items"]
    assert all(e["status"] == "ok" for e in data["endpoints"])
    assert by["home"]["cpu_percent"] is None  # a URL without --pid: not sampled
    assert (by["home"]["protocol"], by["home"]["streams"]) == ("http/1.1", None)


def test_suite_launches_measures_and_stops_the_server(tmp_path):
    f = tmp_path / "suite.yaml"
    f.write_text(SUITE)
    proc = run_cli("bench", "--suite", str(f), "-c", "2", "--", *sample_cmd("shop.py", "0"),
                   check=True)
    out = proc.stdout
    for word in ("Endpoint", "Req/s", "p97.5", "CPU %", "Peak RSS", "home  (GET /)",
                 "create  (POST /items)"):
        assert word in out, out
    rows = [ln for ln in out.splitlines() if ln.startswith("│ ") and ("GET" in ln or "POST" in ln)]
    assert len(rows) == 3 and all(" MB " in r and "%" in r for r in rows), out


def test_an_endpoint_with_no_2xx_answer_fails_the_suite(serve, tmp_path):
    s = serve("shop.py")
    f = tmp_path / "suite.yaml"
    f.write_text("endpoints:\n  - {name: home, path: /, amount: 20}\n"
                 "  - {name: typo, path: /itmes, amount: 20}\n")
    proc = run_cli("bench", "--suite", str(f), "-j", s.url)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == ["pinkclinic: error: suite incomplete: typo (no-2xx)"]
    by = {e["name"]: e for e in json.loads(proc.stdout)["endpoints"]}
    assert by["home"]["status"] == "ok"
    assert by["typo"]["status"] == "no-2xx" and "20 404" in by["typo"]["detail"]
    assert by["typo"]["result"]["statusCodeStats"] == {"404": {"count": 20}}  # still reported


def test_a_server_that_dies_mid_suite(tmp_path):
    f = tmp_path / "suite.yaml"
    f.write_text("endpoints:\n"
                 "  - {name: home, path: /, amount: 100}\n"
                 "  - {name: die, path: /die, duration: 2}\n"
                 "  - {name: after, path: /items, amount: 100}\n")
    proc = run_cli("bench", "--suite", str(f), "-j", "--", *sample_cmd("shop.py", "0"))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "pinkclinic: error: suite incomplete: die (server-died), after (not-run)"]
    data = json.loads(proc.stdout)
    st = {e["name"]: e for e in data["endpoints"]}
    assert st["home"]["status"] == "ok"
    assert st["home"]["result"]["requests"]["total"] == 100
    assert st["die"]["status"] == "server-died" and "SIGKILL" in st["die"]["detail"]
    assert st["after"]["status"] == "not-run" and st["after"]["result"] is None
    assert data["server"]["ending"]["outcome"] == "crashed"


@pytest.mark.parametrize("text, where", [
    ("endpoints:\n  - path: /\n    conections: 3\n", ":3: endpoints[0].conections: unknown field"),
    ("endpoints:\n  - path: /\n  - path: /x\n    rate: -1\n", ":4: endpoints[1].rate: must be more than 0"),
    ("defaults: {duration: soon}\nendpoints: [{path: /}]\n", ":1: defaults.duration: expected a number"),
    ("endpoints:\n  - path: /\n    headers: [nocolon]\n", ":3: endpoints[0].headers:"),
    ("endpoints:\n  - path: /\n  bad: [\n", ":3: invalid YAML"),
    ("url: http://127.0.0.1:9\n", ":1: endpoints: is required"),
    ("endpoints:\n  - path: no-slash\n", ":2: endpoints[0].path:"),
    ("endpoints:\n  - {path: /}\n  - {path: /x, workers: 3, connections: 2}\n",
     ":3: endpoints[1] (/x): --workers (3) must not exceed"),
    ("endpoints:\n  - {path: /}\n  - {path: /}\n", ":3: endpoints[1].name: '/' is used"),
    ("endpoints:\n  - path: /\n    duration: .inf\n", ":3: endpoints[0].duration: must be a finite"),
    ("defaults: {duration: .nan}\nendpoints: [{path: /}]\n", ":1: defaults.duration: must be a finite"),
    ("url: 'http://[::1'\nendpoints: [{path: /}]\n", ":1: url: invalid URL"),
    ("endpoints:\n  - {path: 'http://[::1/x'}\n", ":2: endpoints[0].path: invalid URL"),
    ("endpoints:\n  - path: /\n    name: a\n    path: /items\n",
     ":4: invalid YAML: duplicate key 'path' (first on line 2)"),
    ("endpoints:\n  - {path: /, connections: 200000}\n",
     ":2: endpoints[0].connections: must be at most 100,000"),
    ("endpoints:\n  - {path: /a b}\n", ":2: endpoints[0].path: '/a b' has spaces"),
])
def test_malformed_suite_names_file_line_and_field(tmp_path, text, where):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    proc = run_cli("bench", "--suite", str(f), "http://127.0.0.1:9")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{f}{where}" in lines[0], lines[0]


def test_ctrl_c_mid_suite_prints_what_ran_and_stops_the_server(tmp_path):
    import signal
    import subprocess
    import time

    from tests.helpers import pinkclinic_cmd

    f = tmp_path / "suite.yaml"
    f.write_text("endpoints:\n  - {name: first, path: /, amount: 50}\n"
                 "  - {name: long, path: /items, duration: 60}\n  - {name: never, path: /}\n")
    proc = subprocess.Popen(pinkclinic_cmd("bench", "--suite", str(f), "-j", "--",
                                           *sample_cmd("shop.py", "0")),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Ctrl-C once "long" is under way: the launched server has counted its requests (a
    # poll, where a fixed 4 s sleep was both slow and, on a loaded machine, a guess)
    deadline = time.monotonic() + 60
    while _served(proc, "GET /items") < 20:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the suite's long endpoint never ran"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    st = {e["name"]: e["status"] for e in json.loads(out)["endpoints"]}
    assert st == {"first": "ok", "long": "interrupted", "never": "not-run"}


def _served(proc, key: str) -> int:
    """How many ``key`` requests the server that ``proc`` launched has counted (0 while
    it is not up yet)."""
    import psutil

    try:
        for child in psutil.Process(proc.pid).children(recursive=True):
            if "shop.py" not in " ".join(child.cmdline()):
                continue
            for c in child.net_connections("tcp"):
                if c.status == psutil.CONN_LISTEN:
                    url = f"http://127.0.0.1:{c.laddr.port}/__counts"
                    with urllib.request.urlopen(url, timeout=5) as r:
                        return json.loads(r.read()).get(key, 0)
    except (psutil.Error, OSError):
        pass
    return 0


MARKUP_SUITE = """
defaults: {amount: 20, connections: 2}
endpoints:
  - {name: "[/]", path: /}
  - {name: "[red]x", path: "/items?[b]"}
"""


def test_names_and_paths_are_printed_as_written(serve, tmp_path):
    # rich markup in a name or a path is text: "[/]" used to crash the report after the run
    s = serve("shop.py")
    f = tmp_path / "suite.yaml"
    f.write_text(MARKUP_SUITE)
    proc = run_cli("bench", "--suite", str(f), s.url)
    assert proc.returncode == 0, proc.stderr
    assert "│ [/]  (GET /) " in proc.stdout and "│ [red]x  (GET /items?[b]) " in proc.stdout


def test_a_mapping_body_is_sent_as_json(serve, tmp_path):
    s = serve("shop.py")
    f = tmp_path / "suite.yaml"
    f.write_text("endpoints:\n"
                 "  - {name: json, method: POST, path: /items, body: {name: w}, amount: 10}\n"
                 "  - {name: own, method: POST, path: /items, body: {name: w}, amount: 5,\n"
                 "     headers: {content-type: text/plain}}\n")
    run_cli("bench", "--suite", str(f), "-c", "1", s.url, check=True)
    with urllib.request.urlopen(f"{s.url}/__content_types", timeout=10) as r:
        assert json.loads(r.read()) == {"application/json": 10, "text/plain": 5}


def test_the_url_path_is_a_prefix(serve, tmp_path):
    s = serve("shop.py")
    f = tmp_path / "suite.yaml"
    f.write_text(f"url: {s.url}/api\nendpoints:\n  - {{path: /items, amount: 10}}\n"
                 "  - {path: /, amount: 5}\n")
    proc = run_cli("bench", "--suite", str(f), "-c", "1")
    assert s.counts() == {"GET /api/items": 10, "GET /api/": 5}
    assert proc.returncode == 1 and "(no-2xx)" in proc.stderr  # shop.py has no /api routes


def test_duration_on_the_command_line_wins_over_an_amount(serve, tmp_path):
    s = serve("shop.py")
    f = tmp_path / "suite.yaml"
    f.write_text("endpoints:\n  - {path: /, amount: 1000000}\n")
    data = json.loads(run_cli("bench", "--suite", str(f), "-j", "-d", "0.5", "-c", "2", s.url,
                              check=True).stdout)
    result = data["endpoints"][0]["result"]
    assert 0 < result["requests"]["total"] < 1000000 and result["duration"] < 3


def test_https_is_not_silently_http2(tmp_path):
    f = tmp_path / "suite.yaml"
    f.write_text("endpoints: [{path: /}]\n")
    proc = run_cli("bench", "--suite", str(f), "https://127.0.0.1:9")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "add `http2: true`" in proc.stderr, proc.stderr


def test_a_running_server_given_by_pid_that_dies(serve, tmp_path):
    s = serve("shop.py")
    f = tmp_path / "suite.yaml"
    f.write_text("endpoints:\n  - {name: home, path: /, amount: 50}\n"
                 "  - {name: die, path: /die, duration: 3}\n  - {name: after, path: /, amount: 5}\n")
    proc = run_cli("bench", "--suite", str(f), "-j", "-c", "1", "--pid", str(s.proc.pid), s.url)
    assert proc.returncode == 1, proc.stderr
    st = {e["name"]: e for e in json.loads(proc.stdout)["endpoints"]}
    assert st["home"]["status"] == "ok"
    assert st["die"]["status"] == "server-died" and "(--pid) is gone" in st["die"]["detail"]
    assert st["after"]["status"] == "not-run"


def test_an_empty_server_log_is_not_left_behind(tmp_path):
    f = tmp_path / "suite.yaml"
    f.write_text("endpoints: [{path: /}]\n")
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    proc = run_cli("bench", "--suite", str(f), "--", sys.executable, "-c", "raise SystemExit(3)",
                   env={**os.environ, "TMPDIR": str(tmp)})
    assert proc.returncode != 0 and "exited with code 3" in proc.stderr, proc.stderr
    assert list(tmp.iterdir()) == []
