"""Readers: py-spy's speedscope (streaming and fallback), pyinstrument, collapsed."""

from __future__ import annotations

import json

import pytest

from pinkclinic.jsonio import JsonlWriter
from pinkclinic.profile import ProfileBuilder, read_collapsed, read_pyinstrument, read_pyspy
from pinkclinic.profile.readers import parse_frame_text
from pinkclinic.profile.speedscope_in import CHUNK, _read_json, _read_streaming, read_speedscope

HOSTILE = '</script><img src=x onerror="alert(1)">;"samples":[1]'


def pyspy_doc(n_samples=10, weights=None):
    frames = [
        {"name": 'process 42:"python -m app --x "y""', "file": "", "line": 0, "col": None},
        {"name": "thread (43): MainThread", "file": "", "line": 0, "col": None},
        {"name": "<module>", "file": "/srv/app.py", "line": 3, "col": None},
        {"name": HOSTILE, "file": "/srv/app.py", "line": 9, "col": None},
        {"name": "thread (44)", "file": "", "line": 0, "col": None},
        {"name": "Condition.wait", "file": "/usr/lib/python3.11/threading.py", "line": 327,
         "col": None},
    ]
    s1 = [[0, 1, 2, 3] if i % 3 else [0, 1, 2] for i in range(n_samples)]
    s2 = [[0, 4, 5]] * 4
    return {"$schema": "https://www.speedscope.app/file-format-schema.json",
            "profiles": [
                {"type": "sampled", "name": 'Process 42 Thread 43 "MainThread"',
                 "unit": "seconds", "startValue": 0.0, "endValue": 1.0, "samples": s1,
                 "weights": weights or [0.01] * len(s1)},
                {"type": "sampled", "name": "Process 42 Thread 44", "unit": "seconds",
                 "startValue": 0.0, "endValue": 1.0, "samples": s2, "weights": [0.01] * 4},
                {"type": "sampled", "name": "Thread 45", "unit": "seconds", "startValue": 0.0,
                 "endValue": 0.0, "samples": [], "weights": []}],
            "shared": {"frames": frames}, "activeProfileIndex": None,
            "exporter": "py-spy@0.4.3", "name": "py-spy profile"}


def write(tmp_path, doc, **kw):
    p = tmp_path / "pyspy.speedscope.json"
    p.write_text(json.dumps(doc, separators=(",", ":"), **kw))
    return p


def counts(profiles):
    return [{k: v[1] for k, v in p.items()} for p in profiles]


def test_streaming_equals_json(tmp_path):
    path = write(tmp_path, pyspy_doc(50))
    assert counts(_read_streaming(path)[1]) == counts(_read_json(path)[1])


def test_streaming_across_chunk_boundaries(tmp_path, monkeypatch):
    import pinkclinic.profile.speedscope_in as mod

    path = write(tmp_path, pyspy_doc(3000))
    for chunk in (16, 33, 64, 101):
        monkeypatch.setattr(mod, "CHUNK", chunk)
        assert counts(mod._read_streaming(path)[1]) == counts(_read_json(path)[1]), chunk
    assert CHUNK > 1000


def test_pretty_printed_and_uneven_weights_fall_back_to_json(tmp_path):
    path = write(tmp_path, pyspy_doc(10), indent=2)
    assert counts(read_speedscope(path)[1]) == counts(_read_json(path)[1])
    path = write(tmp_path, pyspy_doc(3, weights=[0.01, 0.02, 0.03]))
    _, profiles = read_speedscope(path)
    assert sum(v[0] for v in profiles[0].values()) == pytest.approx(0.06)


def test_pseudo_frames_become_threads(tmp_path):
    b = ProfileBuilder()
    n = read_pyspy(write(tmp_path, pyspy_doc(9)), b)
    p = b.build()
    assert n == 13
    assert [(t.pid, t.tid, t.name) for t in p.threads] == [(42, 43, "MainThread"), (42, 44, "")]
    assert p.threads[0].process == 'python -m app --x "y"'
    names = {f.function for f in p.frames}
    assert HOSTILE in names and not any(x.startswith(("thread (", "process ")) for x in names)
    assert p.total(idle=False) == 9


def test_empty_and_torn_files(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"profiles":[{"type":"sampled","samples":[[1,2],[3')
    with pytest.raises(ValueError):
        read_speedscope(path)


def test_pyinstrument_segments(tmp_path):
    path = tmp_path / "pyinstrument-7.jsonl"
    with JsonlWriter(path, "pyinstrument", pid=7, interval_s=0.001, async_mode="enabled",
                     thread_id=8) as w:
        w.write({"t0": 1.0, "t1": 2.0, "stacks": [
            {"frames": [["main", "/srv/a.py", 1], ["work", "/srv/a.py", 5]], "seconds": 0.5,
             "kind": "cpu"},
            {"frames": [["main", "/srv/a.py", 1], ["handler", "/srv/a.py", 9]], "seconds": 0.25,
             "kind": "await"}]})
    with open(path, "a") as f:
        f.write('{"t0": 2.0, "stacks": [')  # torn last line from a crash
    b = ProfileBuilder(unit="seconds")
    assert read_pyinstrument(path, b) == pytest.approx(0.75)
    p = b.build()
    assert p.threads[0].pid == 7 and p.threads[0].tid == 8
    assert p.total(idle=False) == pytest.approx(0.5)
    leaves = {p.frames[fr[-1]].function for _, fr, _, _ in p.iter_stacks() if p.is_idle(fr)}
    assert leaves == {"<await>"}


def test_pyinstrument_segments_out_of_order_and_a_torn_tail(tmp_path):
    """Segments are read by their own times, whatever their order in the file."""
    path = tmp_path / "pyinstrument-9.jsonl"
    header = {"schema_version": 1, "stream": "pyinstrument", "pid": 9, "interval_s": 0.001}
    segs = [{"t0": 2.0, "t1": 3.0, "stacks": [{"frames": [["late", "/srv/a.py", 2]],
                                               "seconds": 0.5, "kind": "cpu"}]},
            {"t0": 1.0, "t1": 2.0, "stacks": [{"frames": [["early", "/srv/a.py", 1]],
                                               "seconds": 0.25, "kind": "cpu"}]}]
    path.write_text("".join(json.dumps(o) + "\n" for o in [header, *segs]) + '{"t0": 3.0, "t1"')
    b = ProfileBuilder(unit="seconds")
    assert read_pyinstrument(path, b) == pytest.approx(0.75)
    assert b.build().threads[0].pid == 9
    b = ProfileBuilder(unit="seconds")
    assert read_pyinstrument(path, b, (1.0, 2.0)) == pytest.approx(0.25)
    assert [f.function for f in b.build().frames] == ["early"]


def test_pyinstrument_window_thread_frame_and_process(tmp_path):
    """Segments mostly outside the window (start-up imports) are left out; pyinstrument's
    ``MainThread (<thread>)`` root is the thread, not a frame."""
    path = tmp_path / "pyinstrument-7.jsonl"
    root = ["MainThread", "<thread>", 139988459441024]
    with JsonlWriter(path, "pyinstrument", pid=7, interval_s=0.001, thread_id=7) as w:
        w.write({"t0": 1.0, "t1": 1.25, "stacks": [
            {"frames": [root, ["_find_and_load", "<frozen importlib._bootstrap>", 1]],
             "seconds": 0.2, "kind": "cpu"}]})
        for t0 in (1.25, 1.5, 1.75):
            w.write({"t0": t0, "t1": t0 + 0.25, "stacks": [
                {"frames": [root, ["work", "/srv/a.py", 5]], "seconds": 0.25, "kind": "cpu"}]})
    b = ProfileBuilder(unit="seconds")
    assert read_pyinstrument(path, b, (1.2, 1.9), process="python a.py") == pytest.approx(0.75)
    p = b.build()
    assert {(f.function, f.file) for f in p.frames} == {("work", "/srv/a.py")}
    assert [(t.pid, t.name, t.process) for t in p.threads] == [(7, "MainThread", "python a.py")]
    # a window shorter than a segment still keeps the segment that holds it
    b = ProfileBuilder(unit="seconds")
    assert read_pyinstrument(path, b, (1.3, 1.4)) == pytest.approx(0.25)


def test_subprocess_parents(tmp_path):
    frames = [{"name": 'process 10:"gunicorn master"', "file": "", "line": 0},
              {"name": 'process 11:"gunicorn master"', "file": "", "line": 0},
              {"name": "thread (11): MainThread", "file": "", "line": 0},
              {"name": "thread (10): MainThread", "file": "", "line": 0},
              {"name": "run", "file": "/srv/a.py", "line": 1}]
    path = write(tmp_path, {"shared": {"frames": frames}, "profiles": [
        {"type": "sampled", "name": "Process 11 Thread 11", "unit": "seconds", "startValue": 0,
         "endValue": 0.01, "samples": [[0, 1, 2, 4]], "weights": [0.01]},
        {"type": "sampled", "name": "Process 10 Thread 10", "unit": "seconds", "startValue": 0,
         "endValue": 0.01, "samples": [[0, 3, 4]], "weights": [0.01]}]})
    b = ProfileBuilder()
    read_pyspy(path, b)
    p = b.build()
    assert sorted(t.pid for t in p.threads) == [10, 11]
    assert p.meta["process_parents"] == {"11": 10}


def test_collapsed_reader():
    b = ProfileBuilder()
    read_collapsed([
        'process 5:"python a b";thread (6): Main;main (/srv/a.py:1);hot (/srv/a.py:4) 7\n',
        "main (/srv/a.py:1);odd name (x) (/srv/b (1).py) 2\n",
        "\n",
        "justname 1",
    ], b)
    p = b.build()
    assert [(t.pid, t.tid) for t in p.threads] == [(5, 6), (None, None)]
    assert p.total() == 10
    assert parse_frame_text("f (/a/b.py:12)") == ("f", "/a/b.py", 12)
    assert parse_frame_text("epoll_wait (libc.so.6)") == ("epoll_wait", "libc.so.6", 0)
    assert parse_frame_text("no location") == ("no location", "", 0)
