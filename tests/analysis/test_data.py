"""RecordingData: the analysis window in every kind of run, and the streams it hands out."""

import pytest

from pinkclinic.analysis.data import RecordingData
from pinkclinic.recording import Recording
from tests.synth import LOOP_IDLE, Synth, frame, on_loop, spy_thread


def test_the_window_is_the_load_less_the_edges(tmp_path):
    s = Synth(tmp_path)
    w = s.data().window
    assert (w.start, w.end) == (s.t0 + 0.2, s.t1 - 0.2)


def test_without_a_load_phase_the_window_is_the_time_it_listened(tmp_path):
    s = Synth(tmp_path, load_phase=False)
    w = s.data().window
    assert (w.start, w.end) == (s.t0 - 0.8 + 0.2, s.t1 + 0.5 - 0.2)  # listening .. stopping


def test_a_run_cut_short_ends_with_its_last_load_second(tmp_path):
    """pinkclinic killed during the load: no load_end, no stop marks."""
    s = Synth(tmp_path)
    s.load(rps=100, end=s.t0 + 4.5)  # 4 full seconds and a half
    timings = {k: v for k, v in s.rec.manifest["timings"].items()
               if k not in ("load_end", "stopping", "stopped", "finished")}
    s.rec.manifest["timings"] = timings
    s.rec.save()
    assert s.data().window.end == pytest.approx(s.t0 + 4.5 - 0.2)


def test_a_run_cut_short_without_load_lines_ends_with_the_last_process_sample(tmp_path):
    s = Synth(tmp_path)
    s.processes(end=s.t0 + 3.0)
    s.rec.manifest["timings"] = {k: v for k, v in s.rec.manifest["timings"].items()
                                 if k not in ("load_end", "stopping", "stopped", "finished")}
    s.rec.save()
    assert s.data().window.end == pytest.approx(s.t0 + 3.0 - 0.2, abs=0.021)


def test_streams(tmp_path):
    s = Synth(tmp_path)
    s.processes(pid=100, cpu_count=8, end=s.t0 + 1)
    s.processes(pid=101, exit_at=s.t0 + 2, end=s.t0 + 1)
    p = s.probe()
    p.lags(start=s.t0 - 0.5, end=s.t1 + 0.5)
    s.probe(pid=101).gc(t=s.t0 + 1, dur_ms=5)
    data = s.data()
    assert sorted(data.processes) == [100, 101] and data.cpu_count == 8
    assert [e["event"] for e in data.process_events] == ["exit"]
    assert all(r["t"] <= data.processes[100][i + 1]["t"] for i, r in enumerate(data.processes[100][:-1]))
    assert sorted(data.probe_headers) == [100, 101] and data.has_probe
    assert data.probe["gc"][0]["pid"] == 101
    inside = data.probe_in_window("lag")
    assert inside and all(data.window.contains(r["t"]) for r in inside)
    assert len(inside) < len(data.probe["lag"])
    assert data.load_result is None and data.load_timeline == []


def test_no_py_spy_or_an_empty_file_gives_no_profile(tmp_path):
    s = Synth(tmp_path)
    data = s.data()
    assert data.profile is None and data.pyspy_threads is None and data.window_profile is None
    assert data.stack_span is None
    s.rec.register("pyspy", "pyspy.speedscope.json", format="speedscope", rate_hz=100)
    s.rec.file("pyspy.speedscope.json").write_text("")  # py-spy killed before writing
    data = RecordingData(Recording.open(s.rec.path))
    assert data.pyspy_threads is None and data.profile is None


def test_window_profile_and_stack_span(tmp_path):
    s = Synth(tmp_path)
    s.pyspy(spy_thread(100, 100, [(on_loop(frame("hot")), 0.5), (LOOP_IDLE, 0.5)]),
            start=s.t0 + 1, end=s.t0 + 4)
    data = s.data()
    assert data.stack_span == pytest.approx((s.t0 + 1, s.t0 + 4), abs=0.011)
    assert data.profile.total(idle=True) == 300  # every sample
    assert data.window_profile.total(idle=True) == 300  # all inside the window
    s2 = Synth(tmp_path)
    s2.pyspy(spy_thread(100, 100, [(LOOP_IDLE, 1.0)]))  # 11 s of samples over a 9.6 s window
    assert s2.data().window_profile.total(idle=True) == pytest.approx(960, abs=2)
