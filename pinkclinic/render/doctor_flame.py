"""The flame graph inside the doctor report.

For a loop stalled by the user's code it shows the loop thread's stacks captured
during the stalls of the load window (weighted by stall time), which is the evidence
for the culprit; otherwise py-spy's busy samples of the load window, which show where
the CPU went. Both leave pinkclinic's own probe threads and frames out, and both stop
at the load window's edges: start-up imports and the shutdown are not the server's
work under load.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from pinkclinic.analysis.data import RecordingData

STALL_CATEGORIES = ("loop-cpu", "loop-blocking-call")


def stall_profile(data: RecordingData):
    from pinkclinic.analysis.loop import stalls
    from pinkclinic.analysis.pyspy_window import is_probe_frame
    from pinkclinic.profile import from_stacks

    w = data.window
    stacks = []
    for b in stalls(data):
        frames = [tuple(f[:3]) for f in b.get("stack") or []]
        frames = frames[:next((i for i, f in enumerate(frames) if is_probe_frame(f)), len(frames))]
        if frames:
            t0 = b["t"]
            inside = w.overlap(t0, t0 + b.get("dur_ms", 0.0) / 1000)
            stacks.append((frames, inside, 1, b.get("pid"), b.get("thread_id")))
    if not stacks:
        return None
    return from_stacks(stacks, unit="seconds", meta={"title": "event-loop stalls"})


def doctor_flame_html(data: RecordingData, diagnosis: dict[str, Any]) -> Markup | None:
    from pinkclinic.render.flame import flame_fragment

    if diagnosis.get("verdict") in STALL_CATEGORIES:
        profile = stall_profile(data)
        if profile is not None:
            return flame_fragment(profile, dom_id="stalls", heading="Event-loop stalls: the loop "
                                  "thread's stacks while it was blocked during the load, sized "
                                  "by stall time")
    profile = data.window_profile
    if profile is None:
        return None
    return flame_fragment(profile, dom_id="cpu", options={"idle": False},
                          heading="Where the time went during the load: py-spy samples of the "
                                  "server's threads (waiting hidden; toggle it to see "
                                  "wall-clock time)")
