"""compare: two servers of clearly different speed ranked right; --fail-if exit codes."""

from __future__ import annotations

import json

import pytest

from pinkclinic.errors import UsageError
from pinkclinic.load.compare import BY_KEY, check_limits, improvement, parse_limit
from tests.helpers import run_cli
from tests.workflows.conftest import sample_cmd

SLOW = " ".join(sample_cmd("items_slow.py", "0"))
FAST = " ".join(sample_cmd("items_fast.py", "0"))


def test_compare_ranks_the_faster_server_first():
    proc = run_cli("compare", "--a", SLOW, "--b", FAST, "--load", "-c 8 -d 1 /items",
                   "--rounds", "2", "-j", "--fail-if", "rps < -5%", "--fail-if", "p99 > +10%")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    a, b = data["a"], data["b"]
    assert len(a["rounds"]) == len(b["rounds"]) == 2
    assert b["median"]["load"]["rps"] > 1.5 * a["median"]["load"]["rps"]
    imp = data["improvement"]["load"]
    assert imp["rps"]["text"].startswith("+") and imp["rps"]["change_percent"] > 50
    assert imp["p50"]["text"].endswith("faster")
    assert imp["rss"]["text"].endswith("less")  # the slow one keeps every page it built
    assert a["median"]["load"]["cpu"] > 0 and b["median"]["load"]["rss"] > 10
    assert data["crossed"] == []


@pytest.fixture
def saved(serve, tmp_path):
    fast, slow = serve("items_fast.py"), serve("items_slow.py")
    paths = {}
    for name, s in (("fast", fast), ("slow", slow)):
        proc = run_cli("bench", "-j", "-c", "8", "-d", "1", s.url + "/items", check=True)
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(proc.stdout)
    return paths


def test_fail_if_exit_codes_on_saved_results(saved):
    ok = run_cli("compare", str(saved["slow"]), str(saved["fast"]), "--fail-if", "rps < -5%",
                 "--fail-if", "p99 > +10%", "--markdown")
    assert ok.returncode == 0, ok.stderr
    assert "| Metric | A | B | Improvement |" in ok.stdout
    assert "| Requests/sec |" in ok.stdout and "faster |" in ok.stdout
    bad = run_cli("compare", str(saved["fast"]), str(saved["slow"]), "--fail-if", "rps < -5%",
                  "--fail-if", "p99 > +10%")
    assert bad.returncode == 1, bad.stderr
    assert "limit crossed: rps < -5%: B is -" in bad.stdout
    absolute = run_cli("compare", str(saved["fast"]), str(saved["slow"]),
                       "--fail-if", "p50 > 10000ms")
    assert absolute.returncode == 0


@pytest.mark.parametrize("args", [
    ["--a", "python x.py"],
    ["--a", "python x.py", "--b", "python y.py", "--fail-if", "p99 >> 10%"],
    ["--a", "python x.py", "--b", "python y.py", "--fail-if", "latency > 5 parsecs"],
    ["--a", "python x.py", "--b", "python y.py", "--load", "-c 0 /"],
    ["only-one.json"],
    ["/no/such/a.json", "/no/such/b.json"],
])
def test_usage_errors(args):
    proc = run_cli("compare", *args)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_wording():
    m = BY_KEY
    assert improvement(m["rps"], 1000, 1500) == "+50%"
    assert improvement(m["rps"], 1000, 800) == "-20%"
    assert improvement(m["p99"], 10.0, 6.0) == "40% faster"
    assert improvement(m["p99"], 10.0, 12.5) == "25% slower"
    assert improvement(m["rss"], 100.0, 75.0) == "25% less"
    assert improvement(m["cpu"], 100.0, 71.0) == "29% less"
    assert improvement(m["cpu"], None, 71.0) == "–"
    assert improvement(m["p50"], 10.0, 10.01) == "same"


def test_limits():
    a = {"load": {"rps": 1000, "p99": 10.0, "rss": 50.0}}
    b = {"load": {"rps": 900, "p99": 12.0, "rss": 40.0}}
    assert check_limits([parse_limit("p99 > +10%")], a, b) == [
        "limit crossed: p99 > +10%: B is +20.0%"]
    assert check_limits([parse_limit("p99 > +25%"), parse_limit("rps < -15%")], a, b) == []
    assert check_limits([parse_limit("memory > 30MB")], a, b) == [
        "limit crossed: memory > 30MB: B is 40"]
    assert parse_limit("p99 > 0.5s").value == 500
    with pytest.raises(UsageError):
        parse_limit("bogus > 1%")


def test_endpoint_names_are_printed_as_written(serve, tmp_path):
    from tests.workflows.test_suite import MARKUP_SUITE

    s = serve("shop.py")
    f = tmp_path / "suite.yaml"
    f.write_text(MARKUP_SUITE)
    saved = tmp_path / "suite.json"
    saved.write_text(run_cli("bench", "--suite", str(f), "-j", s.url, check=True).stdout)
    proc = run_cli("compare", str(saved), str(saved))
    assert proc.returncode == 0, proc.stderr
    assert "endpoint: [/]" in proc.stdout and "endpoint: [red]x" in proc.stdout
