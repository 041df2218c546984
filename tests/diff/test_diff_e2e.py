"""One real before/after: two `pinkclinic flame` runs of samples/diff/shop.py, the second
with render_report made 3x cheaper and `--baseline` pointing at the first."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.helpers import SAMPLES, run_cli

SHOP = [sys.executable, str(SAMPLES / "diff" / "shop.py")]
LOAD = "-c 4 -d 3"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("e2e")
    env = {**os.environ, "PORT": "0"}
    before = run_cli("flame", "--dest", str(d), "--name", "before", "--load", LOAD, "--", *SHOP,
                     timeout=120, env=env)
    assert before.returncode == 0, before.stderr
    after = run_cli("flame", "--dest", str(d), "--name", "after", "--load", LOAD,
                    "--baseline", str(d / "before.pinkclinic-flame"),
                    "--fail-if", "cpu/req(price_cart) > +25%", "--", *SHOP, timeout=120,
                    env={**env, "SHOP_RENDER_COST": "0.3333"})
    return d, after


def test_a_function_made_three_times_cheaper_is_the_one_change(runs):
    d, after = runs
    assert after.returncode == 0, after.stdout + after.stderr
    page = d / "after-vs-before.pinkclinic-diff.html"
    assert page.exists() and "render_report" in after.stdout
    proc = run_cli("diff", str(d / "before.pinkclinic-flame"), str(d / "after.pinkclinic-flame"),
                   "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["normalised_by"] == "request" and data["new"]["cpu_time_from"] == "kernel"
    rows = {r["function"]: r for r in data["functions"]}
    hot = rows["render_report"]
    # a third of the cost: -0.667, within sampling noise either side (a machine at load 6
    # measured -0.814)
    assert -0.84 < hot["change"] < -0.50, hot
    for f in ("price_cart", "check_stock", "audit_log", "encode_reply"):
        assert not rows[f]["significant"], rows[f]
    # on a quiet machine the change is significant; on a machine so busy that the samples
    # vary far beyond counting noise, the diff must say so rather than claim it
    noisy = data["dispersion"] >= 2.0
    assert hot["significant"] or noisy, (hot, data["dispersion"])
    assert noisy == any("as much as counting noise" in w for w in data["warnings"])
    # the same pair the other way round is a regression, and the gate says so (or says
    # that it is within the noise)
    gate = run_cli("diff", str(d / "after.pinkclinic-flame"), str(d / "before.pinkclinic-flame"),
                   "--fail-if", "cpu/req(render_report) > +10%", "-o", str(d / "rev.html"))
    if hot["significant"]:
        assert gate.returncode == 1, gate.stdout + gate.stderr
        assert "limit crossed: cpu/req(render_report) > +10%" in gate.stdout
    else:
        assert gate.returncode == 0 and "within the noise" in gate.stdout, gate.stdout
