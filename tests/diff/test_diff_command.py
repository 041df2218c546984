"""`pinkclinic diff` on recordings built in the test: the JSON, the shares fallback, the
refusals (one line, exit 2), --fail-if and --baseline's checks."""

from __future__ import annotations

import json

import pytest

from pinkclinic.diff import diff_recordings
from pinkclinic.jsonio import read_json, write_json
from tests.diff.synth import make_recording
from tests.helpers import run_cli

BASE = {"render_report": 600, "price_cart": 150, "check_stock": 100, "audit_log": 80}
NEW = {**BASE, "render_report": 200}


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    d = tmp_path_factory.mktemp("pair")
    return (make_recording(d, "before", BASE, requests=1000, seed=1),
            make_recording(d, "after", NEW, requests=1000, seed=2), d)


def _rows(data):
    return {r["function"]: r for r in data["functions"]}


def test_json_compares_cpu_per_request_with_intervals_and_sorted_keys(pair):
    base, new, _ = pair
    proc = run_cli("diff", str(base), str(new), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert proc.stdout == json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    assert data["schema_version"] == 1 and data["normalised_by"] == "request"
    rows = _rows(data)
    hot = rows["render_report"]
    for key in ("function", "file", "line", "base_ms_per_request", "new_ms_per_request",
                "change", "significant"):
        assert key in hot
    # 600 samples of 10 ms over 1000 requests: 6 ms per request, then 2 ms
    assert hot["base_ms_per_request"] == pytest.approx(6.0, rel=0.1)
    assert hot["new_ms_per_request"] == pytest.approx(2.0, rel=0.15)
    assert hot["significant"] and -0.75 < hot["change"] < -0.58
    lo, hi = hot["interval_ms"]
    assert lo < hot["new_ms_per_request"] - hot["base_ms_per_request"] < hi < 0
    for f in ("price_cart", "check_stock", "audit_log"):
        assert not rows[f]["significant"], rows[f]
    assert data["functions"][0]["function"] == "render_report"  # largest self change first
    assert data["base"]["cpu_time_from"] == "samples"  # no processes.jsonl here


def test_summary_and_page_are_written_beside_new(pair, cli):
    base, new, d = pair
    proc = cli("diff", str(base), str(new))
    assert proc.returncode == 0, proc.stderr
    page = d / "after-vs-before.pinkclinic-diff.html"
    assert page.exists() and f"diff: {page}" in proc.stdout
    assert "render_report" in proc.stdout and "price_cart" not in proc.stdout
    assert "CPU per request" in proc.stdout


def test_without_load_on_a_side_shares_are_compared_and_said(tmp_path):
    base = make_recording(tmp_path, "b", BASE, requests=1000)
    new = make_recording(tmp_path, "n", NEW, requests=None, seed=4)
    d = diff_recordings(base, new).data
    assert d["normalised_by"] == "share"
    assert any("shares" in w for w in d["warnings"])
    hot = _rows(d)["render_report"]
    assert hot["base_ms_per_request"] is None and hot["significant"] and hot["change"] < -0.3
    assert hot["base_share"] == pytest.approx(600 / 930, abs=0.02)


def test_samples_are_scaled_to_the_kernels_cpu_time_when_recorded(tmp_path):
    # py-spy counted 930 samples (9.3 s) but the tree used 4.65 s of CPU: half the samples
    # were runnable time on a busy machine
    base = make_recording(tmp_path, "b", BASE, requests=1000, cpu_ms=4650)
    new = make_recording(tmp_path, "n", BASE, requests=1000, seed=3, cpu_ms=9300)
    d = diff_recordings(base, new).data
    assert d["base"]["cpu_time_from"] == "kernel"
    assert d["base"]["ms_per_sample"] == pytest.approx(5.0, rel=0.1)
    rows = _rows(d)
    assert rows["render_report"]["base_ms_per_request"] == pytest.approx(3.0, rel=0.12)
    assert rows["render_report"]["new_ms_per_request"] == pytest.approx(6.0, rel=0.12)


@pytest.mark.parametrize("case", ["missing", "newer", "empty", "kinds", "targets", "fail-if",
                                  "waits", "waits-forced"])
def test_bad_input_is_one_line_and_exit_2(tmp_path, pair, case, cli):
    base, new, _ = pair
    args = [str(base), str(new)]
    if case == "missing":
        args[1] = str(tmp_path / "nope.pinkclinic-flame")
    elif case == "newer":
        args[1] = str(make_recording(tmp_path, "future", BASE, requests=10, schema_version=99))
    elif case == "empty":
        args[1] = str(make_recording(tmp_path, "empty", {}, requests=10))
    elif case == "kinds":
        args[1] = str(make_recording(tmp_path, "doc", BASE, requests=10, kind="doctor",
                                     diagnosis={"verdict": "healthy", "issues": []}))
    elif case == "targets":
        args[1] = str(make_recording(tmp_path, "other", BASE, requests=10,
                                     command=("python", "other.py")))
    elif case.startswith("waits"):  # nothing is compared for waits yet, --force or not
        args = [str(make_recording(tmp_path, n, BASE, requests=10, kind="waits"))
                for n in ("wa", "wb")] + (["--force"] if case == "waits-forced" else [])
    else:
        args += ["--fail-if", "cpu/req(render_report) >> 3"]
    proc = (run_cli if case == "missing" else cli)("diff", *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pinkclinic: error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    if case.startswith("waits"):
        assert "diff does not compare waits recordings yet" in lines[0]
    if case in ("kinds", "targets"):
        assert "--force" in lines[0]
        forced = cli("diff", *args, "--force", "--json")
        assert forced.returncode == 0, forced.stderr
        assert any("--force" in w for w in json.loads(forced.stdout)["warnings"])


def test_fail_if_exits_1_on_a_significant_crossing_only(pair, cli):
    base, new, _ = pair
    # NEW against BASE: render_report fell; swapped, it rose 3x
    up = cli("diff", str(new), str(base), "--fail-if", "cpu/req(render_report) > +10%",
                 "--fail-if", "cpu/req(price_cart) > +1%")
    assert up.returncode == 1, up.stdout + up.stderr
    assert "limit crossed: cpu/req(render_report) > +10%" in up.stdout
    assert "limit crossed: cpu/req(price_cart)" not in up.stdout
    ok = cli("diff", str(base), str(new), "--fail-if", "cpu/req(render_report) > +10%",
                 "--fail-if", "cpu/req > 100ms")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    unknown = cli("diff", str(base), str(new), "--fail-if", "cpu/req(no_such_fn) > +10%")
    assert unknown.returncode == 3 and "no function 'no_such_fn'" in unknown.stdout


def test_doctor_diff_lists_issues_and_new_issue_is_a_gate(tmp_path, cli):
    issue = {"category": "loop-cpu", "summary": "render_report() blocks the loop",
             "severity": 0.9, "culprits": [{"function": "render_report"}]}
    gc = {"category": "gc-pressure", "summary": "GC took 30% of the time", "severity": 0.6,
          "culprits": []}
    base = make_recording(tmp_path, "b", BASE, requests=1000, kind="doctor",
                          diagnosis={"verdict": "loop-cpu", "issues": [issue]})
    new = make_recording(tmp_path, "n", NEW, requests=1000, kind="doctor", seed=3,
                         diagnosis={"verdict": "gc-pressure", "issues": [gc],
                                    "findings": [{"signal": "gc", "evidence":
                                                  {"gc_share": 0.3, "collections": 9}}]})
    proc = cli("diff", str(base), str(new), "--fail-if", "new-issue")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "resolved loop-cpu" in proc.stdout and "new gc-pressure" in proc.stdout
    assert "limit crossed: new-issue: NEW has gc-pressure" in proc.stdout
    data = diff_recordings(base, new).data["doctor"]
    assert [i["category"] for i in data["issues"]["resolved"]] == ["loop-cpu"]
    gcrow = next(m for m in data["metrics"] if m["metric"] == "gc_share")
    assert gcrow["new"] == 0.3


def test_heap_leaks_are_matched_and_leak_is_a_gate(tmp_path, cli):
    def heap(name, suspects, peak):
        rec = make_recording(tmp_path, name, BASE, requests=10, kind="heap")
        write_json(rec / "heap.json", {"schema_version": 2, "suspects": suspects,
                                       "peak": {"bytes": peak}, "leaks": {"status": "ok"}})
        return rec

    site = {"function": "remember_visit", "file": "/srv/app/shop.py", "line": 9,
            "bytes_per_request": 512.0, "growth_bytes": 5_000_000}
    base = heap("hb", [site], 80_000_000)
    new = heap("hn", [], 40_000_000)
    d = diff_recordings(base, new).data["heap"]
    assert d["leaks"][0]["status"] == "fixed" and d["peak"]["change"] == -0.5
    assert cli("diff", str(base), str(new), "--fail-if",
               "leak(remember_visit) > 0").returncode == 0
    crossed = cli("diff", str(new), str(base), "--fail-if", "leak(remember_visit) > 0")
    assert crossed.returncode == 1 and "512 B per request" in crossed.stdout


def test_baseline_is_checked_before_a_run_starts(tmp_path, pair, cli):
    base, _, _ = pair
    missing = cli("flame", "--baseline", str(tmp_path / "nope"), "--", "python", "-c", "1")
    assert missing.returncode == 2 and "no such recording" in missing.stderr
    no_base = cli("flame", "--fail-if", "new-issue", "--", "python", "-c", "1")
    assert no_base.returncode == 2 and "--fail-if needs --baseline" in no_base.stderr
    kind = cli("doctor", "--baseline", str(base), "--", "python", "-c", "1")
    assert kind.returncode == 2 and "is a flame recording" in kind.stderr
    waits = make_recording(tmp_path, "w", BASE, requests=10, kind="waits")
    refused = cli("waits", "--baseline", str(waits), "--", "python", "-c", "1")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr == ("pinkclinic: error: diff does not compare waits recordings "
                              "yet (only flame, doctor, heap)\n")
    assert not refused.stdout  # refused before the run: nothing was launched
    assert read_json(base / "manifest.json")["kind"] == "flame"
