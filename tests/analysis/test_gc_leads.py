"""gc-pressure leads a loop verdict when the collector took most of the loop's stalled
time (issue 14's aiohttp app: 76% of the window in GC, yet loop-cpu was the verdict),
and the loop's evidence adds up: the whole stall is its parts in and outside GC."""

import pytest

from pinkclinic.analysis import gc, loop
from tests.synth import Synth, frame, on_loop

BUILD = on_loop(frame("build_graph", 40))


def rec(tmp_path, *, stall: float, in_gc: float, gc_elsewhere: float = 0.0, lag_ms: float = 25.0):
    """A loop stalled ``stall`` of the window on CPU in build_graph; ``in_gc`` of each
    stall is a GC pause, and GC pauses outside the stalls add ``gc_elsewhere``."""
    s = Synth(tmp_path)
    s.processes(cores=0.9)
    s.load(rps=200, p50_ms=30.0)
    p = s.probe()
    p.loop()
    p.lags(p50_ms=lag_ms)
    p.blocks(share=stall, dur_ms=200, stack=BUILD)
    for b in s.data().probe["block"]:
        p.gc(t=b["t"], dur_ms=b["dur_ms"] * in_gc, stack=BUILD)
    if gc_elsewhere:  # short pauses between the stalls (below the probe's block threshold)
        p.gcs(share=gc_elsewhere, dur_ms=5, stack=BUILD)
    return s


def test_gc_leads_when_it_is_most_of_the_stalled_time(tmp_path):
    # the stalls are 30% of the window, 60% of each in GC, and as much GC again outside them
    s = rec(tmp_path, stall=0.3, in_gc=0.6, gc_elsewhere=0.2)
    d = s.diagnose()
    assert d["verdict"] == "gc-pressure", d["summary"]
    assert [i["category"] for i in d["issues"]][:2] == ["gc-pressure", "loop-cpu"]
    lead = d["issues"][0]
    assert lead["evidence"]["share_of_loop_stalls"] > gc.GC_LEADS_LOOP_SHARE
    assert "of the event loop's stalled time" in d["summary"]
    ev = d["issues"][1]["evidence"]
    assert ev["stall_s"] == pytest.approx(ev["stall_in_gc_s"] + ev["stall_outside_gc_s"], abs=0.002)
    assert ev["stall_in_gc_s"] <= ev["stall_s"]


def test_the_loop_leads_when_gc_is_the_smaller_part(tmp_path):
    # stalls 40% of the window, 15% of each in GC, some more GC between: GC is a minority
    s = rec(tmp_path, stall=0.4, in_gc=0.15, gc_elsewhere=0.05)
    d = s.diagnose()
    assert d["verdict"] == "loop-cpu", d["summary"]
    g = next(i for i in d["issues"] if i["category"] == "gc-pressure")
    assert g["evidence"]["share_of_loop_stalls"] < gc.GC_LEADS_LOOP_SHARE
    assert "stalled time" not in d["summary"]


@pytest.mark.parametrize("side", [0.9, 1.1])
def test_the_share_threshold_from_both_sides(tmp_path, side):
    """In-GC time against the loop's own stall time: just under and just over half. The
    loop's lag gives it the higher severity, so only this rule puts gc-pressure first."""
    share = gc.GC_LEADS_LOOP_SHARE * side  # the part of each stall spent in GC
    s = rec(tmp_path, stall=0.4, in_gc=share, lag_ms=10 * loop.LAG_P50_ISSUE_MS)
    d = s.diagnose()
    f = loop.analyse(s.data())
    assert f.evidence["stall_in_gc_s"] / f.evidence["stall_s"] == pytest.approx(share, abs=0.01)
    assert d["verdict"] == ("gc-pressure" if side > 1 else "loop-cpu"), d["summary"]
