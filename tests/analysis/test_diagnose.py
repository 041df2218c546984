"""How diagnose combines the findings: the lead issue when several fire, the rules that keep
categories honest, and insufficient-data with its reason."""

import pytest

from pinkclinic.analysis import diagnose as diag_mod
from pinkclinic.jsonio import read_json
from pinkclinic.window import EDGE_TRIM_S
from tests.synth import LOOP_IDLE, Synth, frame, on_loop, spy_thread

MB = 1 << 20


def served(tmp_path, *, cores=0.3, p50_ms=2.0, **kw):
    s = Synth(tmp_path, **kw)
    s.processes(cores=cores)
    s.load(rps=100, p50_ms=p50_ms)
    return s


def categories(d):
    return [i["category"] for i in d["issues"]]


def test_a_healthy_run_is_healthy_and_written(tmp_path):
    s = served(tmp_path)
    p = s.probe()
    p.loop()
    p.lags(p50_ms=1.0)
    s.pyspy(spy_thread(100, 100, [(on_loop(frame("handler")), 0.3), (LOOP_IDLE, 0.7)]))
    s.routes([("/", s.t0 + 1, 2.0, 200)])
    d = s.diagnose()
    assert d["verdict"] == "healthy" and d["issues"] == []
    assert d["summary"] == ("no issue found: the server is simply busy serving requests "
                            "(100 req/s, p99 6.0 ms, busiest process at 30% CPU)")
    assert d["signals_missing"] == [] and d["run"] == {"outcome": "completed", "detail": ""}
    assert d["window"] == {"start": s.w0, "end": s.w1}
    assert "pinkclinic flame --load" in d["recommendation"]
    assert read_json(s.rec.file("diagnosis.json")) == d
    assert [f["signal"] for f in d["findings"]] == ["loop", "gc", "memory", "io", "waits", "traffic",
                                                    "gil", "saturation"]


def test_io_wait_is_dropped_behind_a_stalled_loop(tmp_path):
    """A loop blocked by a sync call is also idle and slow: io-wait fires too, but the
    stall is the reason, so only the loop verdict stays."""
    s = served(tmp_path, cores=0.05, p50_ms=300)
    p = s.probe()
    p.loop()
    p.lags(p50_ms=1.0)
    p.blocks(share=0.15, stack=on_loop(frame("requests_get")), on_cpu=False)
    d = s.diagnose()
    io = next(f for f in d["findings"] if f["signal"] == "io")
    assert io["status"] == "issue"  # it fired...
    assert categories(d) == ["loop-blocking-call"]  # ... and was dropped
    assert d["verdict"] == "loop-blocking-call"
    assert "requests_get()" in d["recommendation"]


def test_io_wait_stays_when_the_loop_kept_up(tmp_path):
    s = served(tmp_path, cores=0.05, p50_ms=300)
    p = s.probe()
    p.loop()
    p.lags(p50_ms=1.0)
    assert s.diagnose()["verdict"] == "io-wait"


def test_gc_inside_stalls_is_gc_pressure_not_a_loop_issue(tmp_path):
    """The loop stalled, but each stall was a collection on the loop's thread."""
    s = served(tmp_path, cores=0.9)
    p = s.probe()
    p.loop()
    p.lags(p50_ms=1.0)
    p.blocks(share=0.3, dur_ms=100, stack=on_loop(frame("handler")))
    for b in s.data().probe["block"]:
        p.gc(t=b["t"], dur_ms=b["dur_ms"], stack=on_loop(frame("build_rows")))
    d = s.diagnose()
    assert categories(d) == ["gc-pressure"]
    assert d["issues"][0]["culprits"][0]["function"] == "build_rows"


def test_issues_are_ordered_by_severity(tmp_path):
    """A leak (severity from its growth, about 0.75 here) and a GC share of 20% (0.5)."""
    s = Synth(tmp_path)
    s.processes(cores=0.3, rss=lambda t: 40 * MB + 2 * MB * t)
    s.load()
    p = s.probe()
    p.gcs(share=0.2)
    d = s.diagnose()
    assert categories(d) == ["memory-leak", "gc-pressure"]
    sev = [i["severity"] for i in d["issues"]]
    assert sev == sorted(sev, reverse=True) and sev[0] > sev[1]
    assert d["verdict"] == "memory-leak" and d["summary"] == d["issues"][0]["summary"]
    assert d["recommendation"] == d["issues"][0]["recommendation"]


def test_a_failed_load_is_insufficient_or_a_warning_next_to_an_issue(tmp_path):
    s = Synth(tmp_path / "a")
    s.processes(cores=0.3)
    s.load(rps=100, status={"404": 100})
    d = s.diagnose()
    assert d["verdict"] == "insufficient-data" and d["warnings"] == []
    (issue,) = d["issues"]
    assert issue["category"] == "insufficient-data" and "404: 1,000" in issue["summary"]
    assert "check the path and options in --load" in issue["recommendation"]

    s = Synth(tmp_path / "b")
    s.processes(cores=0.3, rss=lambda t: 40 * MB + 2 * MB * t)
    s.load(rps=100, status={"404": 100})
    d = s.diagnose()
    assert d["verdict"] == "memory-leak"
    assert len(d["warnings"]) == 1 and "404: 1,000" in d["warnings"][0]


@pytest.mark.parametrize("side, verdict", [(-0.1, "insufficient-data"), (0.1, "healthy")])
def test_a_window_shorter_than_a_second_is_insufficient(tmp_path, side, verdict):
    """MIN_WINDOW_S of analysed window (the load less EDGE_TRIM_S at each edge), give or take 0.1 s."""
    span = diag_mod.MIN_WINDOW_S + side
    s = served(tmp_path, load_s=span + 2 * EDGE_TRIM_S)
    p = s.probe()
    p.loop()
    p.lags(p50_ms=1.0)
    d = s.diagnose()
    assert d["verdict"] == verdict
    if verdict == "insufficient-data":
        assert d["summary"] == (f"not enough data to diagnose: the load window was {span:.1f} s, "
                                f"shorter than {diag_mod.MIN_WINDOW_S:g} s")


def test_no_window_at_all(tmp_path):
    s = Synth(tmp_path, load_phase=False)
    s.rec.update(timings={"listening": None, "launched": None})
    d = s.diagnose()
    assert d["verdict"] == "insufficient-data" and d["window"] is None
    assert d["summary"] == "not enough data to diagnose: no load window was recorded"
    assert set(d["signals_missing"]) >= {"cpu-memory", "stacks", "tasks", "load"}


def test_no_signal_seen_is_insufficient_never_healthy(tmp_path):
    """Load and a window, but no process samples, probe or stacks: io-wait and memory
    cannot judge, and the others saw nothing; that is no evidence of health."""
    s = Synth(tmp_path)
    s.load(rps=100)
    d = s.diagnose()
    assert d["verdict"] == "insufficient-data"
    assert d["summary"] == ("not enough data to diagnose: "
                            "only 0 memory samples in the load window")
    assert "Run a longer or heavier load" in d["recommendation"]


def test_missing_streams_are_named(tmp_path):
    s = Synth(tmp_path / "a", options={"no_load": True})
    s.processes(cores=0.3)
    d = s.diagnose()
    # no_load: no "load", and no per-route table (no request of ours was traced)
    assert d["signals_missing"] == ["gc", "loop-lag", "routes", "stacks", "tasks", "waits"]
    assert d["verdict"] == "healthy"
    assert d["recommendation"].startswith("Nothing stands out")

    s = Synth(tmp_path / "b", options={})
    s.processes(cores=0.3)
    assert "load" in s.diagnose()["signals_missing"]


def test_an_interrupted_run_says_so(tmp_path):
    s = served(tmp_path, outcome="interrupted")
    s.rec.update(status={"outcome": "interrupted", "detail": "Ctrl-C after 9.8 s"})
    d = s.diagnose()
    assert d["run"] == {"outcome": "interrupted", "detail": "Ctrl-C after 9.8 s"}
    assert d["summary"].startswith("no issue found in the 9.6 s recorded before the run ended early")
