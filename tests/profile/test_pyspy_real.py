"""Real py-spy recordings of a real starlette/uvicorn server whose hot function is known."""

from __future__ import annotations

import json

import pytest

from pinkclinic.profile import ProfileBuilder, read_pyspy
from pinkclinic.profile.areas import APP, IDLE, STDLIB
from tests.profile.pyspy_util import record_app

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")


def _profile(path, pid):
    b = ProfileBuilder()
    read_pyspy(path, b, pid=pid)
    return b.build()


def _busy_share(p, area):
    """Self weight of busy samples per function name, for frames of ``area``."""
    out = {}
    for s in p.functions(idle=False):
        f = p.frames[s.frame]
        if f.area == area:
            out[f.function] = out.get(f.function, 0) + s.self
    return out


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_hot_function_leads_app_frames_and_areas_classify(tmp_path, loop):
    if loop == "uvloop":
        pytest.importorskip("uvloop")
    out = tmp_path / "pyspy.speedscope.json"
    # the clients pause 10 ms between requests, so the loop surely waits between them
    # (back-to-back clients once left no idle sample in a CI run)
    pid = record_app(out, loop=loop, pause=0.01)
    p = _profile(out, pid)

    app = _busy_share(p, APP)
    assert app, "no busy app samples at all"
    assert max(app, key=app.get) == "checksum", app
    assert all(t.pid == pid for t in p.threads)
    assert any(t.name == "MainThread" for t in p.threads)

    by_file = {}
    for f in p.frames:
        by_file.setdefault(f.file, set()).add(f.area)
    starlette = {a for file, areas in by_file.items() if "/starlette/" in file for a in areas}
    uvicorn = {a for file, areas in by_file.items() if "/uvicorn/" in file for a in areas}
    assert starlette == {"deps:starlette"}, starlette
    assert uvicorn <= {"deps:uvicorn", IDLE} and "deps:uvicorn" in uvicorn, uvicorn
    assert {a for file, areas in by_file.items() if file.endswith("hot_app.py")
            for a in areas} == {APP}
    assert any(a == STDLIB for areas in by_file.values() for a in areas)

    # between requests the loop waits: those samples must be classified idle
    idle = sum(w for _, frames, w, _ in p.iter_stacks() if p.is_idle(frames))
    assert idle > 0
    assert p.total(idle=False) < p.total(idle=True)


def test_raw_file_is_py_spy_layout(tmp_path):
    """Guards the streaming reader's assumption: py-spy writes compact speedscope JSON."""
    out = tmp_path / "pyspy.speedscope.json"
    record_app(out, seconds=1)
    text = out.read_text()
    assert '"samples":[' in text and '"weights":[' in text
    from pinkclinic.profile.speedscope_in import _read_json, _read_streaming
    fast, slow = _read_streaming(out)[1], _read_json(out)[1]
    assert [{k: v[1] for k, v in p.items()} for p in fast] == \
        [{k: v[1] for k, v in p.items()} for p in slow]
    assert json.loads(text)["exporter"].startswith("py-spy")


def test_native_frames_and_native_idle(tmp_path):
    """With --native, C frames are `native` and uvloop's idle leaf is epoll_pwait (idle)."""
    pytest.importorskip("uvloop")
    out = tmp_path / "pyspy.speedscope.json"
    pid = record_app(out, loop="uvloop", seconds=2, extra=("--native",), pause=0.02)
    p = _profile(out, pid)
    areas = {f.area for f in p.frames}
    assert "native" in areas
    leaves = {p.frames[fr[-1]].function for _, fr, _, _ in p.iter_stacks() if p.is_idle(fr)}
    assert leaves & {"epoll_pwait", "epoll_wait"}, leaves
    app = _busy_share(p, APP)
    assert max(app, key=app.get) == "checksum", app
