"""The flame graph inside the doctor report.

For a loop stalled by the user's code it shows the loop thread's stacks captured
during the stalls of the load window (weighted by stall time), which is the evidence
for the culprit; otherwise py-spy's busy samples of the load window, which show where
the CPU went. Both leave pinkclinic's own probe threads and frames out, and both stop
at the load window's edges: start-up imports and the shutdown are not the server's
work under load.

py-spy shows a thread asleep in ``time.sleep`` or blocked in a ``recv`` called from
Python as busy in its Python frame. A thread the kernel saw blocked in such a call
(not running, not in a futex) for :data:`WAITING_THREAD_SHARE` of the window is
drawn as waiting in the CPU view: hidden with the idle samples, shown when they are.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.loop import stalls
from pinkclinic.analysis.pyspy_window import window_profile
from pinkclinic.analysis.thread_time import thread_states
from pinkclinic.probe import is_probe_file, without_wrappers
from pinkclinic.profile import from_stacks
from pinkclinic.render.flame import flame_fragment

STALL_CATEGORIES = ("loop-cpu", "loop-blocking-call")
WAITING_THREAD_SHARE = 0.9  # a metrics thread in time.sleep(0.2) is blocked ~100%


def waiting_threads(data: RecordingData) -> set:
    """(pid, tid) of the threads blocked outside futex nearly all the load window."""
    got = thread_states(data)
    if got is None:
        return set()
    return {key for key, (run, futex, blocked) in got[0].items()
            if run + futex + blocked and blocked / (run + futex + blocked) >= WAITING_THREAD_SHARE}


def cpu_profile(data: RecordingData):
    """py-spy's samples of the load window, waiting threads marked idle (or ``None``)."""
    if data.pyspy_threads is None:
        return None
    w = data.window
    return window_profile(data.pyspy_threads, None if w is None else (w.start, w.end),
                          waiting=waiting_threads(data))


def stall_profile(data: RecordingData):
    w = data.window
    stacks = []
    for b in stalls(data):
        frames = without_wrappers([tuple(f[:3]) for f in b.get("stack") or []])
        frames = frames[:next((i for i, f in enumerate(frames) if is_probe_file(f[1])), len(frames))]
        if frames:
            t0 = b["t"]
            inside = w.overlap(t0, t0 + b.get("dur_ms", 0.0) / 1000)
            stacks.append((frames, inside, 1, b.get("pid"), b.get("thread_id")))
    if not stacks:
        return None
    return from_stacks(stacks, unit="seconds", meta={"title": "event-loop stalls"})


def doctor_flame_html(data: RecordingData, diagnosis: dict[str, Any]) -> Markup | None:
    if diagnosis.get("verdict") in STALL_CATEGORIES:
        profile = stall_profile(data)
        if profile is not None:
            return flame_fragment(profile, dom_id="stalls", heading="Event-loop stalls: the loop "
                                  "thread's stacks while it was blocked during the load, sized "
                                  "by stall time")
    profile = cpu_profile(data)
    if profile is None:
        return None
    return flame_fragment(profile, dom_id="cpu", options={"idle": False},
                          heading="Where the time went during the load: py-spy samples of the "
                                  "server's threads (waiting hidden; toggle it to see "
                                  "wall-clock time)")
