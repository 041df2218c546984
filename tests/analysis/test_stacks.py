"""Evidence from py-spy's stacks: busy and idle per thread, loop threads, where requests wait."""

import pytest

from pinkclinic.analysis.stacks import (
    busy_stacks,
    export_stacks,
    rate_hz,
    thread_summary,
    wait_stacks,
)
from pinkclinic.errors import PinkError
from tests.synth import (
    COND_WAIT,
    LOOP_IDLE,
    SITE_FRAME,
    THREAD_RUN,
    Synth,
    frame,
    on_loop,
    spy_thread,
)


def test_thread_summary_busy_idle_and_loop(tmp_path):
    s = Synth(tmp_path)
    s.pyspy(spy_thread(100, 100, [(on_loop(frame("hot")), 0.25), (LOOP_IDLE, 0.75)]),
            spy_thread(100, 101, [([THREAD_RUN, frame("work")], 0.6), ([THREAD_RUN, COND_WAIT], 0.4)],
                       name="pool"), rate_hz=50)
    data = s.data()
    rows = sorted(thread_summary(data).values(), key=lambda r: r["tid"])
    assert [(r["tid"], r["name"], r["loop"]) for r in rows] == [(100, "MainThread", True),
                                                                (101, "pool", False)]
    n = 9.6 * 50  # samples in the window
    assert rows[0]["busy"] == pytest.approx(0.25 * n, abs=2)
    assert rows[0]["idle"] == pytest.approx(0.75 * n, abs=2)
    assert rows[1]["busy"] == pytest.approx(0.6 * n, abs=2)
    assert rate_hz(data) == 50
    top = list(busy_stacks(data))
    assert [st[-1][0] for st, _ in top] == ["work", "hot"]  # heaviest first, idle left out


def test_wait_stacks_prefer_the_app_s_tasks_then_its_threads(tmp_path):
    app_task = on_loop(frame("fetch_user"))
    framework_task = on_loop(SITE_FRAME)
    app_thread = [THREAD_RUN, frame("call_upstream")]
    framework_thread = [THREAD_RUN, SITE_FRAME]

    def waits(tasks, threads):
        s = Synth(tmp_path)
        if tasks:
            s.probe().waits(tasks)
        if threads:
            s.pyspy(*[spy_thread(100, 200 + i, [(st, 1.0)], name=f"t{i}") for i, st in enumerate(threads)])
        return [st[-1][0] for st, _ in wait_stacks(s.data())]

    assert set(waits([(app_task, 1), (framework_task, 9)], [app_thread])) == {"fetch_user"}
    assert set(waits([(framework_task, 9)], [app_thread, framework_thread])) == {"call_upstream"}
    assert set(waits([(framework_task, 9)], [framework_thread])) == {"Router.__call__"}
    assert waits([], []) == []


def test_waits_outside_the_window_do_not_count(tmp_path):
    s = Synth(tmp_path)
    p = s.probe()
    p.record("waits", t=s.t0 - 0.3, thread_id=100, n=1, stacks=[[on_loop(frame("startup")), 1]])
    p.record("waits", t=s.t0 + 1, thread_id=100, n=1, stacks=[[on_loop(frame("during")), 2]])
    assert wait_stacks(s.data()) == [(on_loop(frame("during")), 2.0)]


def test_export_without_samples_is_a_clear_error(tmp_path):
    s = Synth(tmp_path)
    with pytest.raises(PinkError, match="has no stack samples to export"):
        export_stacks(s.rec, "collapsed")
    s.pyspy(spy_thread(100, 100, [(on_loop(frame("hot")), 1.0)]))
    assert "hot (/srv/app.py:10)" in export_stacks(s.data(), "collapsed")
