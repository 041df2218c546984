"""A side's busy stacks counted straight from py-spy's timed samples (diff.stacks.of_pyspy,
the fast path) are those of the window's Profile (window_profile, then of_profile): the
same paths and weights, the same line (the most-sampled, the lowest on a tie) and area of
each frame, the same total, on samples with every rule in play: probe frames and a probe
thread, idle leaves and the waiting loop, recursion, frames on several lines (a tie
among them), one frame listed twice in the file, stacks left empty, a window cutting
samples off both ends."""

from __future__ import annotations

import json
import random

import pytest

from pinkclinic.analysis.pyspy_window import read_timed, window_profile
from pinkclinic.diff.stacks import CpuStacks, of_profile, of_pyspy

T0 = 1_800_000_000.0
APP = [("handle", "/srv/app.py", 10), ("handle", "/srv/app.py", 11),
       ("handle", "/srv/app.py", 12), ("render", "/srv/app.py", 20),
       ("render", "/srv/app.py", 21), ("query", "/srv/db.py", 5),
       ("handle", "/srv/app.py", 10),  # listed twice, as another id
       ("dumps", "/usr/lib/python3.11/json/__init__.py", 231)]
IDLE_LEAVES = [("EpollSelector.select", "/usr/lib/python3.11/selectors.py", 468),
               ("run", "/usr/lib/python3.11/asyncio/runners.py", 190),  # the loop waiting
               ("epoll_wait", "libc.so.6", 0)]
PROBE = ("_tick", "/opt/pinkclinic/bootstrap/loop.py", 30)


def _recording(path, seed: int) -> list:
    rnd = random.Random(seed)
    names = ['process 4242:"python app.py"', "thread (4242): MainThread"]
    own = APP if seed % 2 else APP[:-2] + APP[-1:]  # the frame listed twice, or once
    frames = [{"name": n} for n in names]
    frames += [{"name": f, "file": fi, "line": ln} for f, fi, ln in (*own, *IDLE_LEAVES, PROBE)]
    app = list(range(2, 2 + len(own)))
    idle = list(range(2 + len(own), 2 + len(own) + len(IDLE_LEAVES)))
    probe = len(frames) - 1

    def stack() -> list[int]:
        body = [rnd.choice(app) for _ in range(rnd.randint(0, 6))]  # repeats: recursion
        if body and rnd.random() < 0.1:
            body.insert(rnd.randrange(len(body)), probe)  # a GC callback of the probe
        if rnd.random() < 0.2:
            body.append(rnd.choice(idle))
        if rnd.random() < 0.03:
            body = [probe, *body]  # entered through the probe: cut to nothing
        return [0, 1, *body] if rnd.random() < 0.5 else body

    profiles = []
    for name, n in (('Process 4242 Thread 4242 "MainThread"', 3000),
                    ('Process 4242 Thread 4300 "worker"', 1200),  # born later: placed last
                    ('Process 4242 Thread 4301 "pinkclinic-probe-loop"', 500),
                    ('Process 4250 Thread 4250 "MainThread"', 800)):
        samples = [stack() for _ in range(n)]
        profiles.append({"type": "sampled", "name": name, "unit": "seconds", "startValue": 0,
                         "endValue": n / 100, "samples": samples, "weights": [0.01] * n})
    doc = {"$schema": "https://www.speedscope.app/file-format-schema.json",
           "shared": {"frames": frames}, "profiles": profiles}
    path.write_text(json.dumps(doc, separators=(",", ":")))
    return read_timed(path, T0, 100.0)


def _named(st: CpuStacks) -> tuple[dict, dict, float]:
    """Paths and frames by (function, file), as the diff merges them."""
    paths: dict = {}
    for fids, w in st.paths.items():
        key = tuple(st.frames[f][:2] for f in fids)
        paths[key] = paths.get(key, 0) + w
    used = {st.frames[f][:2]: st.frames[f][2:] for fids in st.paths for f in fids}
    return paths, used, st.busy


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("window", [None, (T0 + 2.5, T0 + 27.5)])
def test_the_fast_count_is_the_window_profile(tmp_path, seed, window):
    threads = _recording(tmp_path / "pyspy.speedscope.json", seed)
    assert len(threads) == 3  # the probe thread is out
    fast = of_pyspy(threads, window)
    slow = of_profile(window_profile(threads, window))
    got, want = _named(fast), _named(slow)
    assert got == want
    paths, frames, busy = got
    assert () in paths  # stacks left empty count as busy (Profile.total(idle=False))
    assert any(len(set(p)) < len(p) for p in paths)  # recursion
    assert frames[("handle", "/srv/app.py")][1] == "app"
    assert all(area != "idle" for _, area in frames.values())
    inside = sum(len(t.seq) for t in threads) if window is None else None
    if inside is not None:  # no window: every sample, less the idle ones
        assert busy < inside
    assert type(busy) is int and all(type(w) is int for w in fast.paths.values())

