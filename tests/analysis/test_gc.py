"""The GC analyser: its share and worst-second thresholds from both sides, missing signals."""

import pytest

from pinkclinic.analysis import gc
from pinkclinic.analysis.finding import INSUFFICIENT, ISSUE, NONE
from tests.synth import Synth, frame, on_loop


def gc_rec(tmp_path, **kw):
    s = Synth(tmp_path, **kw)
    s.processes()
    return s, s.probe()


@pytest.mark.parametrize("side, status", [(0.95, NONE), (1.05, ISSUE)])
def test_share_of_the_window_in_gc(tmp_path, side, status):
    share = gc.GC_SHARE_ISSUE * side
    s, p = gc_rec(tmp_path)
    p.gcs(share=share, dur_ms=10, stack=on_loop(frame("build_rows", 40)))
    f = gc.analyse(s.data())
    assert f.evidence["gc_share"] == pytest.approx(share, abs=1e-4)
    assert f.evidence["worst_second_s"] < gc.GC_WORST_SECOND_ISSUE_S  # the share alone decides
    assert f.status == status
    if status == ISSUE:
        assert f.category == "gc-pressure" and f.culprits[0].function == "build_rows"
        assert f.culprits[0].line == 40 and "build_rows()" in f.summary


@pytest.mark.parametrize("side, status", [(0.95, NONE), (1.05, ISSUE)])
def test_worst_second_in_gc(tmp_path, side, status):
    """clinic doctor's rule: 100 ms of GC within one second, however short the share."""
    s, p = gc_rec(tmp_path)
    second = int(s.w0) + 3  # the pauses fall in one calendar second
    total = gc.GC_WORST_SECOND_ISSUE_S * side * 1000
    for i in range(5):
        p.gc(t=second + 0.1 + 0.15 * i, dur_ms=total / 5)
    f = gc.analyse(s.data())
    assert f.evidence["worst_second_s"] == pytest.approx(total / 1000, abs=1e-3)
    assert f.evidence["gc_share"] < gc.GC_SHARE_ISSUE and f.evidence["collections"] == 5
    assert f.status == status


def test_the_worst_process_is_judged_not_the_sum(tmp_path):
    """Two workers each at 3% of the window in GC: neither is an issue, though they sum to 6%."""
    s, p = gc_rec(tmp_path)
    p.gcs(share=0.03, dur_ms=10)
    q = s.probe(pid=101)
    q.gcs(share=0.03, dur_ms=10)
    f = gc.analyse(s.data())
    assert f.status == NONE and f.evidence["gc_share"] == pytest.approx(0.03, abs=1e-4)


def test_pauses_outside_the_window_are_left_out(tmp_path):
    s, p = gc_rec(tmp_path)
    p.gcs(share=0.5, dur_ms=50, start=s.t0 - 0.5, end=s.t0)   # start-up
    p.gcs(share=0.5, dur_ms=50, start=s.t1, end=s.t1 + 0.5)   # shut-down
    f = gc.analyse(s.data())
    assert f.status == NONE and f.evidence == {"collections": 0}


def test_a_pause_across_the_window_s_edge_counts_its_inside_part(tmp_path):
    s, p = gc_rec(tmp_path)
    p.gc(t=s.w1 - 0.05, dur_ms=1000)  # 50 ms inside, 950 ms after the window
    f = gc.analyse(s.data())
    assert f.evidence["gc_s"] == pytest.approx(0.05, abs=1e-3) and f.status == NONE


def test_missing_signals(tmp_path):
    s = Synth(tmp_path / "a")
    s.processes()
    f = gc.analyse(s.data())  # no probe (attached): a missing signal, never a verdict
    assert f.status == NONE and f.missing == ["gc"]
    s = Synth(tmp_path / "b", load_phase=False)
    s.rec.update(timings={"listening": None, "launched": None})
    assert gc.analyse(s.data()).status == INSUFFICIENT
