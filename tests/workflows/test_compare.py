"""compare: two servers of clearly different speed ranked right; --fail-if exit codes."""

from __future__ import annotations

import json
import sys

import pytest

from pinkclinic.errors import UsageError
from pinkclinic.workflows.compare import BY_KEY, improvement
from pinkclinic.workflows.compare_limits import check_limits, parse_limit
from tests.helpers import run_cli
from tests.workflows.conftest import sample_cmd, serving

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


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Saved ``bench -j --pid`` results of the fast and the slow server, made once for the
    tests that compare them (each pair costs ~5 s); the servers are stopped before the
    first of those tests starts, and no test writes to the files."""
    tmp_path = tmp_path_factory.mktemp("saved")
    paths = {}
    with serving() as serve:
        fast, slow = serve("items_fast.py"), serve("items_slow.py")
        for name, s in (("fast", fast), ("slow", slow)):
            proc = run_cli("bench", "-j", "-c", "8", "-d", "1", "--pid", str(s.proc.pid),
                           s.url + "/items", check=True)
            server = json.loads(proc.stdout)["server"]  # --pid: the server was sampled
            assert server["pid"] == s.proc.pid and server["peak_rss"] > 10e6, server
            assert 5 < server["cpu_percent"] <= 200, server
            paths[name] = tmp_path / f"{name}.json"
            paths[name].write_text(proc.stdout)
    return paths


def test_fail_if_exit_codes_on_saved_results(saved):
    # p50, not p99: a p99 of 1 s of load is a few requests, which a busy core's preemption
    # made 28% slower on the fast server than on the slow one in a CI run
    ok = run_cli("compare", str(saved["slow"]), str(saved["fast"]), "--fail-if", "rps < -5%",
                 "--fail-if", "p50 > +10%", "--markdown")
    assert ok.returncode == 0, ok.stderr
    assert "| Metric | A | B | Improvement |" in ok.stdout
    assert "| Requests/sec |" in ok.stdout and "faster |" in ok.stdout
    rows = {ln.split("|")[1].strip(): ln for ln in ok.stdout.splitlines() if ln.startswith("| ")}
    for metric in ("Memory usage (peak RSS)", "CPU usage"):  # from the saved server figures
        assert metric in rows and "–" not in rows[metric], ok.stdout
    bad = run_cli("compare", str(saved["fast"]), str(saved["slow"]), "--fail-if", "rps < -5%",
                  "--fail-if", "p99 > +10%")
    assert bad.returncode == 1, bad.stderr
    assert "limit crossed: rps < -5%: B is -" in bad.stdout
    absolute = run_cli("compare", str(saved["fast"]), str(saved["slow"]),
                       "--fail-if", "p50 > 10000ms")
    assert absolute.returncode == 0


def _around(key: str, v: float) -> list[tuple[str, str]]:
    """(just under B's value, just over) limits on ``key``, in each unit of its family."""
    pairs = {"p50": [("s", 1e-3), ("ms", 1), ("us", 1e3), ("µs", 1e3)],            # ms
             "memory": [("MB", 1), ("kB", 1e3), ("KiB", 1e6 / 1024), ("MiB", 1e6 / 1024 ** 2),
                        ("GB", 1e-3), ("B", 1e6)],                                # MB
             "cpu/req": [("us", 1), ("µs", 1), ("ms", 1e-3), ("s", 1e-6)],        # µs
             "cpu": [("%", 1), ("", 1)],                                          # % of a core
             "rps": [("req/s", 1), ("rps", 1), ("", 1)]}[key]
    return [tuple(f"{key} > {v * f * scale:.9f}{unit}" for f in (0.99, 1.01))
            for unit, scale in pairs]


def test_absolute_limits_in_each_unit_trip_just_under_b_and_not_just_over(saved):
    """Over saved results: each unit family (durations, sizes, CPU per request, a share of
    a core, a rate), every unit (and the bare number where it has one meaning: a share,
    a rate), from both sides of B's value."""
    args = [str(saved["slow"]), str(saved["fast"])]
    shown = json.loads(run_cli("compare", *args, "-j", check=True).stdout)["b"]["median"]
    b = shown["load"]
    assert all(b.get(k) for k in ("p50", "rss", "cpu", "cpu_req", "rps")), b
    limits = [*_around("p50", b["p50"]), *_around("memory", b["rss"]),
              *_around("cpu/req", b["cpu_req"]), *_around("cpu", b["cpu"]),
              *_around("rps", b["rps"])]
    crossed = run_cli("compare", *args, *(a for lim, _ in limits for a in ("--fail-if", lim)))
    assert crossed.returncode == 1, crossed.stderr
    lines = [ln for ln in crossed.stdout.splitlines() if ln.startswith("limit crossed")]
    assert sorted(lines) == sorted(f"limit crossed: {lim}: B is "
                                   f"{shown_value(lim, b)}" for lim, _ in limits)
    held = run_cli("compare", *args, *(a for _, lim in limits for a in ("--fail-if", lim)))
    assert held.returncode == 0, held.stdout + held.stderr
    assert "limit crossed" not in held.stdout


def shown_value(limit: str, b: dict) -> str:
    from pinkclinic.workflows.compare_limits import shown

    key = {"p50": "p50", "memory": "rss", "cpu/req": "cpu_req", "cpu": "cpu", "rps": "rps"}
    name = key[limit.split()[0]]
    return shown(name, b[name])


@pytest.mark.parametrize(("limit", "family"), [
    ("p99 > 10MB", "a duration"), ("cpu/req > 1GiB", "a duration"), ("memory > 5ms", "a size"),
    ("rps > 5s", "a rate"), ("cpu > 5ms", "a share"), ("errors > 5ms", "a count"),
])
def test_a_unit_that_does_not_fit_the_metric_is_refused(limit, family):
    with pytest.raises(UsageError, match=f"does not fit, it is {family}"):
        parse_limit(limit)


def test_a_bare_duration_or_size_is_refused_as_in_diff_and_a_bare_share_is_percent():
    """``cpu/req > 200`` could be µs or ms: a gate read in the wrong unit never trips, so
    both commands ask for the unit (0 is 0 in any unit)."""
    from pinkclinic.diff.limits import parse_limit as diff_limit

    for limit in ("p99 > 50", "cpu/req > 2", "memory > 2000000"):
        for parse in (parse_limit, diff_limit):
            with pytest.raises(UsageError, match=r"needs a unit, it is a (duration|size)"):
                parse(limit)
    assert parse_limit("p99 > 50ms").value == diff_limit("p99 > 50ms").value == 50  # ms
    assert parse_limit("memory > 0").value == diff_limit("memory > 0").value == 0
    assert parse_limit("cpu > 80").value == parse_limit("cpu > 80%").value == 80


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
    assert improvement(m["errors"], 0, 5) == "5 more" and improvement(m["errors"], 7, 2) == "5 fewer"
    assert improvement(m["cpu_req"], 400.0, 60.0) == "85% less"


def test_limits():
    a = {"load": {"rps": 1000, "p99": 10.0, "rss": 50.0}}
    b = {"load": {"rps": 900, "p99": 12.0, "rss": 40.0}}
    assert check_limits([parse_limit("p99 > +10%")], a, b) == (
        ["limit crossed: p99 > +10%: B is +20.0%"], [])
    assert check_limits([parse_limit("p99 > +25%"), parse_limit("rps < -15%")], a, b) == ([], [])
    assert check_limits([parse_limit("memory > 30MB")], a, b) == (
        ["limit crossed: memory > 30MB: B is 40.0 MB"], [])
    assert parse_limit("p99 > 0.5s").value == 500
    assert parse_limit("p99 > 500µs").value == 0.5
    # a missing metric is never a pass
    crossed, unchecked = check_limits([parse_limit("cpu > +10%")], a, b)
    assert crossed == [] and unchecked[0].startswith("limit not checked: cpu > +10%: no CPU usage")
    # from A's 0 errors, any error is a crossed relative limit; none is no change
    assert check_limits([parse_limit("errors > +10%")], {"load": {"errors": 0}},
                        {"load": {"errors": 5}})[0] == [
        "limit crossed: errors > +10%: B is 5, against 0 for A"]
    assert check_limits([parse_limit("errors > +10%")], {"load": {"errors": 0}},
                        {"load": {"errors": 0}}) == ([], [])
    # "cpu > 80%" is 80% of one core; a sign makes it a change against A
    assert not parse_limit("cpu > 80%").relative and parse_limit("cpu > +80%").relative
    assert check_limits([parse_limit("cpu > 80%")], {"load": {"cpu": 50}},
                        {"load": {"cpu": 90}})[0] == ["limit crossed: cpu > 80%: B is 90% of a core"]
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



def test_a_full_url_in_load_is_refused(serve):
    other = serve("shop.py")
    proc = run_cli("compare", "--a", FAST, "--b", FAST, "--load", f"-c 2 -a 50 {other.url}/items")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "is a full URL" in proc.stderr, proc.stderr
    assert other.counts() == {}


def test_the_path_of_a_side_url_is_kept(serve):
    s = serve("shop.py")
    proc = run_cli("compare", "--a", s.url + "/items", "--b", s.url + "/items", "--load",
                   "-c 2 -a 50", "--rounds", "1")
    assert proc.returncode == 0, proc.stderr
    assert "1 round per side: A, then B." in proc.stdout
    prefix = run_cli("compare", "--a", s.url + "/api", "--b", s.url + "/api/", "--load",
                     "-c 1 -a 10 /items", "--rounds", "1")
    assert prefix.returncode == 0, prefix.stderr
    assert s.counts() == {"GET /items": 100, "GET /api/items": 20}


def test_a_limit_on_a_metric_not_measured_fails(serve):
    s = serve("items_fast.py")
    proc = run_cli("compare", "--a", s.url, "--b", s.url, "--load", "-c 2 -a 50 /items",
                   "--rounds", "1", "--fail-if", "memory > +10%", "--fail-if", "p99 > +1000%")
    assert proc.returncode == 3, proc.stderr
    assert "limit not checked: memory > +10%: no Memory usage (peak RSS) for A or B" in proc.stdout
    assert proc.stderr.startswith("pinkclinic: error: comparison incomplete: limit not checked")
    assert proc.stderr.count("\n") == 1


def test_saved_results_with_nothing_in_common(serve, tmp_path, saved):
    s = serve("shop.py")
    f = tmp_path / "suite.yaml"
    f.write_text("endpoints: [{path: /, amount: 20}]\n")
    suite = tmp_path / "suite.json"
    suite.write_text(run_cli("bench", "--suite", str(f), "-j", s.url, check=True).stdout)
    proc = run_cli("compare", str(saved["fast"]), str(suite))
    assert proc.returncode == 3
    assert "A and B have nothing in common to compare (A: load; B: /)" in proc.stderr


def test_a_server_dying_mid_suite_keeps_what_was_measured(tmp_path):
    f = tmp_path / "suite.yaml"
    f.write_text("endpoints:\n  - {name: home, path: /, amount: 200}\n"
                 "  - {name: die, path: /die, duration: 2}\n  - {name: after, path: /, amount: 5}\n")
    shop = " ".join(sample_cmd("shop.py", "0"))
    proc = run_cli("compare", "--a", shop, "--b", shop, "--suite", str(f), "--rounds", "1", "-j")
    assert proc.returncode == 3, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data["a"]["median"]) == set(data["b"]["median"]) == {"home"}
    assert data["a"]["median"]["home"]["rps"] > 0 and not data["complete"]
    assert any("round 1: die: server-died" in p for p in data["problems"])
    assert proc.stderr.count("\n") == 1 and "comparison incomplete" in proc.stderr


def test_a_side_that_cannot_start(tmp_path):
    proc = run_cli("compare", "--a", FAST, "--b", f"{sys.executable} -c 'raise SystemExit(3)'",
                   "--load", "-c 2 -a 20 /items")
    assert proc.returncode == 3 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("pinkclinic: error: B (")


def test_help_documents_the_exit_codes():
    out = run_cli("compare", "--help", check=True).stdout
    for line in ("1    B crossed a --fail-if limit", "3    the comparison is incomplete",
                 "130  interrupted"):
        assert line in out, out


def test_saved_results_run_with_different_loads_are_flagged(serve, saved, tmp_path):
    s = serve("items_fast.py")
    other = tmp_path / "c2.json"
    other.write_text(run_cli("bench", "-j", "-c", "2", "-a", "200", s.url + "/items",
                             check=True).stdout)
    proc = run_cli("compare", str(saved["fast"]), str(other))
    assert proc.returncode == 0, proc.stderr
    assert "warning: A and B were not loaded alike: A http/1.1 -c 8, B http/1.1 -c 2" in proc.stdout


def test_a_single_load_that_kills_both_sides(tmp_path):
    shop = " ".join(sample_cmd("shop.py", "0"))
    proc = run_cli("compare", "--a", shop, "--b", shop, "--load", "-c 2 -d 2 /die",
                   "--rounds", "1")
    assert proc.returncode == 3 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "round 1: died during its load" in proc.stderr and "(and 1 more)" in proc.stderr
