"""The per-route table on a real server: a ``--requests`` sequence of a slow route
(``/report/<id>``, 45-80 ms of Python on the event loop) and a cheap one (``/health``),
one at a time (``-c 1``, so the cheap route never queues behind the slow one), and a
token in one step's query string that must never be written."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.browser import open_report
from tests.commands.culprit_stacks import check_culprits
from tests.helpers import run_cli

SERVER = Path(__file__).with_name("routes_server.py")
STEPS = [{"path": "/report/17?api_key=s3cret-route"}, {"path": "/health"},
         {"path": "/report/42"}, {"path": "/health"}]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("routes")
    steps = tmp / "steps.json"
    steps.write_text(json.dumps(STEPS))
    proc = run_cli("doctor", "--dest", str(tmp), "--name", "rt", "--load",
                   f"-c 1 -d 3 --requests {steps} /", "--", sys.executable, str(SERVER),
                   timeout=120, env={**os.environ, "PORT": "0"})
    assert proc.returncode == 0, proc.stderr
    return tmp, proc


def test_the_table_has_each_route_and_the_culprit_names_the_slow_one(run):
    tmp, proc = run
    rec = tmp / "rt.pinkclinic-doctor"
    d = json.loads((rec / "diagnosis.json").read_text())
    check_culprits(d, rec)
    table = {r["path"]: r for r in d["routes"]["table"]}
    assert set(table) == {"/report/[<id>]", "/health"}  # /report/17 and /report/42: one route
    report, health = table["/report/[<id>]"], table["/health"]
    assert report["method"] == health["method"] == "GET"
    # -c 1 alternates the steps: the counts match to within the one request cut at the end
    assert report["count"] >= 3 and abs(report["count"] - health["count"]) <= 1
    assert report["errors"] == health["errors"] == 0
    # 45-80 ms of CPU (more on a busy machine) against well under a millisecond of work
    assert report["p50_ms"] > 5 * health["p50_ms"], table
    result = json.loads((rec / "load-result.json").read_text())
    assert report["count"] + health["count"] <= result["requests"]["total"]  # the window only
    lists = [i["culprits"] for i in d["issues"]] + [(d.get("saturation") or {}).get("culprits", [])]
    culprits = [c for cs in lists for c in cs if c["function"] == "render_report"]
    assert culprits, d["summary"]
    assert culprits[0]["routes"][0]["path"] == "/report/[<id>]", culprits[0]
    assert "slows most: GET /report/[<id>]" in proc.stdout
    # the token in the query string was sent but is nowhere in the recording, report or terminal
    texts = [p.read_text(errors="replace") for p in rec.iterdir() if p.is_file()]
    texts += [(tmp / "rt.pinkclinic-doctor.html").read_text(), proc.stdout, proc.stderr]
    assert not [t for t in texts if "s3cret-route" in t]


@pytest.mark.browser
def test_the_report_shows_the_table_escaped(run):
    tmp, _ = run
    with open_report(tmp / "rt.pinkclinic-doctor.html") as r:
        rows = r.page.locator("#routes table.pc-route-table tr")
        cells = [rows.nth(i).locator("td").all_inner_texts() for i in range(1, rows.count())]
        # "[<id>]" shows as text: escaped, not parsed as an <id> element
        assert sorted(c[:2] for c in cells) == [["GET", "/health"], ["GET", "/report/[<id>]"]]
        assert all(c[3].endswith(" ms") and c[4].endswith(" ms") for c in cells)
        assert r.page.locator("#routes id").count() == 0
        assert "slows most: GET /report/[<id>]" in r.page.locator(".pc-culprit-routes").first.inner_text()
