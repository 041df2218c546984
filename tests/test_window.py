"""The load window, the one span every analysis reads (doctor, heap, pyinstrument)."""

from __future__ import annotations

import pytest

from pinkclinic.window import EDGE_TRIM_S, Window, load_window, trimmed

LAUNCH = {"created": 9.0, "launched": 10.0, "listening": 11.0}


def test_the_load_phase():
    t = {**LAUNCH, "load_start": 12.0, "load_end": 22.0, "stopping": 23.0, "stopped": 24.0}
    assert load_window(t) == Window(12.0, 22.0)
    assert trimmed(load_window(t)) == Window(12.0 + EDGE_TRIM_S, 22.0 - EDGE_TRIM_S)


def test_without_a_load_the_time_the_target_listened():
    assert load_window({**LAUNCH, "stopping": 20.0, "stopped": 21.0}) == Window(11.0, 20.0)
    assert load_window({**LAUNCH, "stopped": 21.0}) == Window(11.0, 21.0)
    attached = {"created": 9.0, "attached": 10.0, "finished": 15.0}
    assert load_window(attached) == Window(10.0, 15.0)


def test_a_run_cut_short_ends_where_its_data_ends_else_at_the_stop():
    cut = {**LAUNCH, "load_start": 12.0}  # pinkclinic killed during the load
    assert load_window(cut, last_seen=lambda start: start + 3.5) == Window(12.0, 15.5)
    assert load_window(cut) is None
    assert load_window({**cut, "stopping": 16.0}) == Window(12.0, 16.0)
    no_load = {**LAUNCH}  # killed while recording with --no-load
    assert load_window(no_load, last_seen=lambda start: 14.0) == Window(11.0, 14.0)


def test_no_window_before_the_target_started():
    assert load_window({"created": 9.0}) is None
    assert trimmed(None) is None


def test_a_short_window_is_not_trimmed_and_overlaps_are_clipped():
    short = Window(1.0, 1.0 + 4 * EDGE_TRIM_S)
    assert trimmed(short) == short
    w = Window(10.0, 20.0)
    assert w.duration == 10.0 and w.contains(10.0) and not w.contains(20.5)
    assert w.overlap(5.0, 12.0) == pytest.approx(2.0) and w.overlap(21.0, 22.0) == 0.0
    assert Window(5.0, 4.0).duration == 0.0
