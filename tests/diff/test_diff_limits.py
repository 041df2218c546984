"""`pinkclinic diff --fail-if` with units, on recordings built in the test: each unit family
(durations, sizes, shares, rates, CPU per request) from both sides of its limit, bare
numbers in their one documented unit, and a unit that does not fit its metric refused."""

from __future__ import annotations

import pytest

from pinkclinic.diff import diff_recordings
from pinkclinic.jsonio import write_json
from tests.diff.synth import make_recording

FUNCS = {"render_report": 600, "price_cart": 150, "check_stock": 100, "audit_log": 80}
# NEW's doctor figures: p99 1.2 s, loop lag 250 ms, growth 10.5 MB, GC 30%, 40 req/s
P99_MS, LAG_MS, GROWTH, GC, RPS = 1200.0, 250.0, 10_500_000, 0.3, 40.0


def _doctor(dest, name, *, p99, lag, growth, gc, rps, seed):
    findings = [{"signal": "loop", "evidence": {"lag_max_ms": lag, "lag_p50_ms": 1.0}},
                {"signal": "gc", "evidence": {"gc_share": gc, "collections": 40}},
                {"signal": "memory", "evidence": {"growth_bytes": growth}}]
    rec = make_recording(dest, name, FUNCS, requests=1000, kind="doctor", seed=seed,
                         diagnosis={"verdict": "healthy", "issues": [], "findings": findings})
    write_json(rec / "load-result.json", {"schema_version": 1, "duration": 10.0,
                                          "2xx": int(rps * 10), "3xx": 0,
                                          "latency": {"p50": p99 / 4, "p99": p99}})
    return rec


@pytest.fixture(scope="module")
def doctors(tmp_path_factory):
    d = tmp_path_factory.mktemp("doctors")
    base = _doctor(d, "base", p99=P99_MS / 2, lag=LAG_MS / 2, growth=GROWTH // 2, gc=GC / 2,
                   rps=RPS * 2, seed=1)
    new = _doctor(d, "new", p99=P99_MS, lag=LAG_MS, growth=GROWTH, gc=GC, rps=RPS, seed=2)
    return base, new


def test_the_recordings_hold_the_figures_the_limits_are_set_around(doctors):
    rows = {m["metric"]: m["new"] for m in diff_recordings(*doctors).data["doctor"]["metrics"]}
    assert (rows["p99_ms"], rows["loop_lag_max_ms"], rows["memory_growth_bytes"],
            rows["gc_share"], rows["rps"]) == (P99_MS, LAG_MS, GROWTH, GC, RPS)


# (just under NEW's value: crossed, just over: holds), one pair per unit
AROUND = [
    ("p99 > 1.19s", "p99 > 1.21s"),
    ("p99 > 1199ms", "p99 > 1201ms"),
    ("p99 > 1199000us", "p99 > 1201000µs"),
    ("lag > 0.249s", "lag > 0.251s"),
    ("memory > 10.4MB", "memory > 10.6MB"),
    ("memory > 10499kB", "memory > 10501kB"),
    ("memory > 0.0104GB", "memory > 0.0106GB"),
    ("memory > 10MiB", "memory > 10.1MiB"),           # 10,485,760 and 10,590,617 B
    ("memory > 10253KiB", "memory > 10254KiB"),       # 10,499,072 and 10,500,096 B
    ("memory > 10499999B", "memory > 10500001B"),
    ("gc > 29%", "gc > 31%"),                         # a share: % of the time
    ("gc > 29", "gc > 31"),                           # bare: % as well
    ("gc > +99%", "gc > +101%"),                      # signed: a change (from 15%: +100%)
    ("rps < 41 req/s", "rps < 39 req/s"),
    ("rps < 41", "rps < 39rps"),
    ("p99 > +99%", "p99 > +101%"),
]


@pytest.mark.parametrize(("crossed", "holds"), AROUND, ids=[a for a, _ in AROUND])
def test_a_doctor_limit_trips_just_under_the_value_and_not_just_over(doctors, cli, crossed,
                                                                    holds):
    base, new = (str(p) for p in doctors)
    over = cli("diff", base, new, "--fail-if", crossed)
    assert over.returncode == 1, over.stdout + over.stderr
    assert f"limit crossed: {crossed}: NEW is " in over.stdout
    under = cli("diff", base, new, "--fail-if", holds)
    assert under.returncode == 0, under.stdout + under.stderr
    assert "limit crossed" not in under.stdout


def test_a_crossed_doctor_limit_shows_the_figure_in_its_unit(doctors, cli):
    out = cli("diff", *(str(p) for p in doctors), "--fail-if", "memory > 10MB",
              "--fail-if", "gc > 29%", "--fail-if", "p99 > 1s").stdout
    assert "limit crossed: memory > 10MB: NEW is 10.5 MB" in out
    assert "limit crossed: gc > 29%: NEW is 30.00%" in out
    assert "limit crossed: p99 > 1s: NEW is 1,200 ms" in out


@pytest.fixture(scope="module")
def cpu_pair(tmp_path_factory):
    """NEW costs 3x BASE in render_report: a significant rise, so absolute CPU limits on
    it and on all CPU are checked (a change within the noise never trips one)."""
    d = tmp_path_factory.mktemp("cpu")
    base = make_recording(d, "base", {**FUNCS, "render_report": 200}, requests=1000, seed=1)
    new = make_recording(d, "new", FUNCS, requests=1000, seed=2)
    total = diff_recordings(base, new).data["total"]["new_ms_per_request"]
    return str(base), str(new), total


@pytest.mark.parametrize("unit", ["ms", "us", "µs", "s"])
def test_cpu_per_request_limits_in_each_unit(cpu_pair, cli, unit):
    base, new, total = cpu_pair
    scale = {"ms": 1, "us": 1000, "µs": 1000, "s": 0.001}[unit]
    under, over = (f"cpu/req > {total * f * scale:.6f}{unit}" for f in (0.99, 1.01))
    crossed = cli("diff", base, new, "--fail-if", under)
    assert crossed.returncode == 1, crossed.stdout + crossed.stderr
    assert f"limit crossed: {under}: all CPU is {total:.3f} ms per request" in crossed.stdout
    holds = cli("diff", base, new, "--fail-if", over)
    assert holds.returncode == 0, holds.stdout + holds.stderr


def test_leak_limits_take_sizes(tmp_path, cli):
    def heap(name, suspects):
        rec = make_recording(tmp_path, name, FUNCS, requests=10, kind="heap")
        write_json(rec / "heap.json", {"schema_version": 2, "suspects": suspects,
                                       "peak": {"bytes": 1e8}, "leaks": {"status": "ok"}})
        return str(rec)

    site = {"function": "remember_visit", "file": "/srv/app/shop.py", "line": 9,
            "bytes_per_request": 2048.0, "growth_bytes": 5_000_000}
    base, new = heap("hb", []), heap("hn", [site])
    for crossed, holds in (("1.9KiB", "2.1KiB"), ("2.04kB", "2.06kB"), ("2047B", "2049B")):
        assert cli("diff", base, new, "--fail-if",
                   f"leak(remember_visit) > {crossed}").returncode == 1, crossed
        assert cli("diff", base, new, "--fail-if",
                   f"leak(remember_visit) > {holds}").returncode == 0, holds


@pytest.mark.parametrize(("limit", "family"), [
    ("p99 > 10MB", "a duration"),
    ("lag > 5KiB", "a duration"),
    ("cpu/req > 5MB", "a duration"),
    ("cpu/req(render_report) > 2GiB", "a duration"),
    ("memory > 5ms", "a size"),
    ("leak(remember_visit) > 5%", "a size"),
    ("leak(remember_visit) > 1s", "a size"),
    ("gc > 5ms", "a share"),
    ("rps > 5MB", "a rate"),
])
def test_a_unit_that_does_not_fit_the_metric_is_one_line_and_exit_2(doctors, cli, limit,
                                                                    family):
    proc = cli("diff", *(str(p) for p in doctors), "--fail-if", limit)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"pinkclinic: error: --fail-if {limit!r}: "
                                                   "unit "), proc.stderr
    assert f"does not fit, it is {family}" in lines[0] and not proc.stdout


@pytest.mark.parametrize(("limit", "family"), [
    ("p99 > 1199", "a duration"), ("cpu/req > 5", "a duration"), ("memory > 10499999", "a size"),
    ("leak(remember_visit) > 2048", "a size"),
])
def test_a_bare_duration_or_size_is_one_line_and_exit_2(doctors, cli, limit, family):
    """A bare 1199 could be µs, ms or s: a gate read in the wrong unit never trips."""
    proc = cli("diff", *(str(p) for p in doctors), "--fail-if", limit)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and f"needs a unit, it is {family}" in lines[0], proc.stderr
