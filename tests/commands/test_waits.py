"""``pinkclinic waits`` end to end: a real server under its own load, the sites in
waits.json, the verdict in diagnosis.json, the terminal lines and the HTML report in
chromium. Thresholds and rules are in tests/analysis/test_waits.py."""

from __future__ import annotations

import json
import os
import signal
import sys

import pytest

from tests.browser import open_report
from tests.commands.culprit_stacks import check_recording_culprits
from tests.helpers import SAMPLES, run_cli

LOAD = "-c 10 -d 3"


def run_waits(tmp_path, name, sample, *extra):
    env = {**os.environ, "PORT": "0"}
    proc = run_cli("waits", "--dest", str(tmp_path), "--name", name, "--load", LOAD, *extra,
                   "--", sys.executable, str(SAMPLES / sample), timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rec = tmp_path / f"{name}.pinkclinic-waits"
    check_recording_culprits(rec)
    return proc, rec, json.loads((rec / "waits.json").read_text())


@pytest.mark.slow
def test_an_upstream_service_is_io_wait_on_its_address(tmp_path):
    proc, rec, waits = run_waits(tmp_path, "upstream", "io_wait_upstream_aiohttp.py")
    top = waits["sites"][0]
    assert (top["function"], top["kind"]) == ("fetch_price", "socket"), waits["sites"][:3]
    assert top["resource"].startswith("127.0.0.1:") and top["share"] >= 0.6
    assert top["mean_waiters"] > 5 and top["stack"][-1][0] != "fetch_price"  # the chain goes on
    diagnosis = json.loads((rec / "diagnosis.json").read_text())
    assert diagnosis["verdict"] == "io-wait" and top["resource"] in diagnosis["summary"]
    line = next(x for x in proc.stdout.splitlines() if "fetch_price" in x and "waiting (max" in x)
    assert top["resource"] in line and "socket" in line
    assert waits["event_loops"] == 1 and "no event loop was seen" not in proc.stdout
    # pinkclinic report re-analyses the recording to the same sites
    again = run_cli("report", str(rec), "--format", "json", check=True)
    assert json.loads(again.stdout)["sites"][0]["resource"] == top["resource"]


@pytest.mark.slow
@pytest.mark.browser
def test_a_small_pool_is_pool_exhausted_and_the_report_shows_its_site(tmp_path):
    proc, rec, waits = run_waits(tmp_path, "pool", "pool_exhausted_aiohttp.py", "--json")
    assert json.loads(proc.stdout) == waits  # --json prints waits.json itself
    top = waits["sites"][0]
    assert (top["function"], top["kind"]) == ("get_orders", "semaphore")
    assert top["share"] >= 0.6 and top["max_waiters"] >= 6  # 10 connections, 2 slots
    assert json.loads((rec / "diagnosis.json").read_text())["verdict"] == "pool-exhausted"
    with open_report(tmp_path / "pool.pinkclinic-waits.html") as r:
        page = r.page
        assert "Requests queue for a pool" in page.inner_text("#verdict")
        assert page.locator("#split div").count() >= 2
        assert "get_orders" in page.inner_text("#sites")
        page.locator("#bubbles circle").last.click()
        assert "get_orders" in page.inner_text("#detail")  # the chain, with source lines
        assert "async with pool" in page.inner_text("#detail")
        assert "Semaphore.acquire" in page.inner_text("#tree")
        assert page.locator("#flame .cell").count() >= 5


@pytest.mark.slow
def test_ctrl_c_mid_load_still_writes_waits_and_the_report(tmp_path):
    from tests.commands.doctor_run import finish, load_lines, manifest, start, wait_for

    proc = start("waits", tmp_path, "cc", "--load", "-c 10 -d 60", "--", sys.executable,
                 str(SAMPLES / "lock_contention_aiohttp.py"))
    rec = tmp_path / "cc.pinkclinic-waits"
    wait_for(lambda: load_lines(rec) >= 3, proc=proc, what="three seconds of load")
    out, err = finish(proc, signal.SIGINT)
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert manifest(rec)["status"]["outcome"] == "interrupted"
    waits = json.loads((rec / "waits.json").read_text())
    assert waits["sites"][0]["function"] == "current_token"
    check_recording_culprits(rec)  # from what was collected
    assert (tmp_path / "cc.pinkclinic-waits.html").exists() and "report:" in out
