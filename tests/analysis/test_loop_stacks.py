"""Event-loop stalls seen by py-spy alone (attached targets, no probe): busy share, app
share and on-CPU share from both sides."""

import pytest

from pinkclinic.analysis import loop_stacks
from pinkclinic.analysis.finding import ISSUE, NONE
from tests.synth import LOOP_IDLE, SITE_FRAME, THREAD_RUN, Synth, frame, on_loop, spy_thread

HOT = on_loop(frame("hot", 12))
FRAMEWORK = on_loop(SITE_FRAME)


def attached(tmp_path, stacks, *, cores=0.9):
    s = Synth(tmp_path)
    s.processes(cores=cores)
    s.pyspy(spy_thread(100, 100, stacks))
    return s


@pytest.mark.parametrize("side, status", [(0.95, NONE), (1.05, ISSUE)])
def test_loop_busy_share(tmp_path, side, status):
    busy = loop_stacks.LOOP_BUSY_ISSUE * side
    (f,) = loop_stacks.analyse(attached(tmp_path, [(HOT, busy), (LOOP_IDLE, 1 - busy)]).data())
    assert f.evidence["loop_busy_share"] == pytest.approx(busy, abs=0.005)
    assert f.status == status
    if status == ISSUE:
        assert f.category == "loop-cpu" and f.culprits[0].function == "hot"
        assert f.evidence["source"] == "py-spy" and "(seen by py-spy)" in f.summary


@pytest.mark.parametrize("side, status", [(0.95, NONE), (1.05, ISSUE)])
def test_share_of_busy_time_in_the_app(tmp_path, side, status):
    """A loop kept busy by the framework itself (many small requests) is not a stall."""
    app = loop_stacks.LOOP_APP_SHARE * side
    s = attached(tmp_path, [(HOT, 0.9 * app), (FRAMEWORK, 0.9 * (1 - app)), (LOOP_IDLE, 0.1)])
    (f,) = loop_stacks.analyse(s.data())
    assert f.evidence["app_share_of_busy"] == pytest.approx(app, abs=0.01)
    assert f.status == status
    if status == ISSUE:  # the framework's frames are no culprit when the app's are there
        assert [c.function for c in f.culprits] == ["hot"]


@pytest.mark.parametrize("side, category", [(0.9, "loop-blocking-call"), (1.1, "loop-cpu")])
def test_on_cpu_share(tmp_path, side, category):
    """Busy 80% of the time: on CPU when the process's CPU is at least half of that."""
    cores = 0.8 * loop_stacks.ON_CPU_SHARE_CPU * side
    (f,) = loop_stacks.analyse(attached(tmp_path, [(HOT, 0.8), (LOOP_IDLE, 0.2)], cores=cores).data())
    assert f.status == ISSUE and f.category == category
    assert f.evidence["on_cpu_share"] == pytest.approx(loop_stacks.ON_CPU_SHARE_CPU * side, abs=0.02)


def test_only_without_the_probe_and_with_a_loop(tmp_path):
    s = attached(tmp_path / "a", [(HOT, 0.9), (LOOP_IDLE, 0.1)])
    s.probe()  # the probe ran: its lag is the better evidence, this analyser stays silent
    assert loop_stacks.analyse(s.data()) == []
    s = attached(tmp_path / "b", [([THREAD_RUN, frame("hot")], 1.0)])  # no event loop
    assert loop_stacks.analyse(s.data()) == []
    s = Synth(tmp_path / "c")  # no py-spy
    s.processes()
    assert loop_stacks.analyse(s.data()) == []
