"""py-spy's samples placed in time: late threads, the probe's threads and frames left out,
the load window's profile, and the loop's busy share over time."""

import pytest

from pinkclinic.analysis.pyspy_window import loop_busy, read_timed, samples_in, window_profile
from pinkclinic.profile.idle import IDLE_FRAME
from tests.synth import LOOP_IDLE, THREAD_RUN, Synth, frame, on_loop, spy_thread

PROBE_FILE = "/opt/venv/lib/python3.11/site-packages/pinkclinic/bootstrap/pinkclinic_probe/gc.py"


def timed(s):
    info = s.rec.manifest["streams"]["pyspy"]
    return read_timed(s.rec.stream_file("pyspy"), info["started"], info["rate_hz"])


def test_threads_span_the_sampling_time_and_late_ones_end_with_it(tmp_path):
    s = Synth(tmp_path)
    s.pyspy(spy_thread(100, 100, [(LOOP_IDLE, 1.0)]),
            spy_thread(100, 101, [([THREAD_RUN, frame("work")], 1.0)], name="pool-0",
                       born=s.t0 + 5), start=s.t0, end=s.t0 + 10)
    main, late = timed(s)
    assert (main.pid, main.tid, main.name) == (100, 100, "MainThread")
    assert main.step == pytest.approx(0.01) and main.t0 == pytest.approx(s.t0 + 0.005)
    assert len(late.stacks) == 500 and late.t0 == pytest.approx(s.t0 + 5.005)
    assert list(late.times())[-1] == pytest.approx(list(main.times())[-1])
    assert late.stacks[0][-1] == ("work", "/srv/app.py", 10)


def test_the_probe_s_threads_and_frames_are_left_out(tmp_path):
    s = Synth(tmp_path)
    probe_stack = [THREAD_RUN, ["watch", PROBE_FILE, 40]]
    outer = [frame("<module>", 90), frame("main", 80)]  # the probe is not where it entered
    gc_callback = [*outer, *on_loop(frame("build")), ["_on_gc", PROBE_FILE, 12]]
    s.pyspy(spy_thread(100, 100, [(gc_callback, 1.0)]),
            spy_thread(100, 102, [(probe_stack, 1.0)], name="pinkclinic-probe-loop"),
            spy_thread(100, 103, [(probe_stack, 1.0)], name=""))  # not named yet
    threads = timed(s)
    assert [t.tid for t in threads] == [100]
    prof = window_profile(threads, None)
    leaves = {prof.frames[f[-1]].function for _, f, _, _ in prof.iter_stacks(idle=True)}
    assert leaves == {"build"}  # the probe's callback cut off the server's stack


def test_the_apps_frames_beneath_the_probes_request_wrapper_are_kept(tmp_path):
    """Feature routes wraps the app: its frames are dropped, not cut at, so the request's
    own code under them stays in the stack (a cut left uvicorn's run_asgi as the culprit)."""
    s = Synth(tmp_path)
    wrapper = PROBE_FILE.rsplit("/", 1)[0] + "/_app_wrap.py"
    served = on_loop(["RequestResponseCycle.run_asgi", "/site-packages/uvicorn/h11_impl.py", 400],
                     ["pinkclinic_routes_asgi", wrapper, 40], ["timed_send", wrapper, 44],
                     frame("render_report"))
    s.pyspy(spy_thread(100, 100, [(served, 1.0)]))
    prof = window_profile(timed(s), None)
    stacks = {tuple(prof.frames[i].function for i in f) for _, f, _, _ in prof.iter_stacks(idle=True)}
    assert stacks == {(*(f[0] for f in on_loop()), "RequestResponseCycle.run_asgi", "render_report")}


def test_window_profile_keeps_the_window_and_marks_waiting_threads(tmp_path):
    s = Synth(tmp_path)
    s.pyspy(spy_thread(100, 100, [(on_loop(frame("hot")), 1.0)]),
            spy_thread(100, 101, [([THREAD_RUN, frame("recv_loop")], 1.0)], name="io"),
            start=s.t0, end=s.t0 + 10)
    threads = timed(s)
    prof = window_profile(threads, (s.t0 + 2, s.t0 + 4), waiting={(100, 101)})
    assert prof.total(idle=True) == pytest.approx(400, abs=2)  # 2 s of two threads
    assert prof.total(idle=False) == pytest.approx(200, abs=1)  # the waiting thread is idle
    idle_leaves = {prof.frames[f[-1]].function for _, f, _, _ in prof.iter_stacks(idle=True)
                   if prof.is_idle(f)}
    assert idle_leaves == {IDLE_FRAME[0]}


def test_a_window_outside_the_samples_holds_none(tmp_path):
    s = Synth(tmp_path)
    s.pyspy(spy_thread(100, 100, [(on_loop(frame("hot")), 1.0)]), start=s.t0 + 5, end=s.t0 + 10)
    threads = timed(s)
    for window in [(s.t0, s.t0 + 1), (s.t0 + 11, s.t0 + 12)]:  # before the first, after the last
        assert window_profile(threads, window) is None  # nothing inside
    assert [len(samples_in(t, (s.t0, s.t0 + 1))) for t in threads] == [0]
    assert window_profile(threads, (s.t0, s.t0 + 6)).total(idle=True) == pytest.approx(100, abs=2)


def test_loop_busy_per_step(tmp_path):
    s = Synth(tmp_path)
    busy_half = [(on_loop(frame("hot")), 0.5), (LOOP_IDLE, 0.5)]
    s.pyspy(spy_thread(100, 100, busy_half),
            spy_thread(100, 101, [([THREAD_RUN, frame("work")], 1.0)], name="no-loop"),
            start=s.t0, end=s.t0 + 4)
    busy = loop_busy(timed(s), 1.0)
    assert list(busy) == [(100, 100)]
    points = busy[(100, 100)]
    assert len(points) == 4 and all(v == pytest.approx(0.5, abs=0.01) for _, v in points)
