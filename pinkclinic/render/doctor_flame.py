"""The flame graph inside the doctor report.

For a loop stalled by the user's code it shows the loop thread's stacks captured
during the stalls (weighted by stall time), which is the evidence for the
culprit; otherwise py-spy's busy samples, which show where the CPU went.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from pinkclinic.analysis.data import RecordingData

STALL_CATEGORIES = ("loop-cpu", "loop-blocking-call")


def stall_profile(data: RecordingData):
    from pinkclinic.profile import from_stacks

    stacks = []
    for b in data.probe.get("block", []):
        if b.get("stack"):
            frames = [tuple(f[:3]) for f in b["stack"]]
            stacks.append((frames, b.get("dur_ms", 0.0) / 1000, 1, b.get("pid"), b.get("thread_id")))
    if not stacks:
        return None
    return from_stacks(stacks, unit="seconds", meta={"title": "event-loop stalls"})


def doctor_flame_html(data: RecordingData, diagnosis: dict[str, Any]) -> Markup | None:
    from pinkclinic.render.flame import flame_fragment

    if diagnosis.get("verdict") in STALL_CATEGORIES:
        profile = stall_profile(data)
        if profile is not None:
            return flame_fragment(profile, dom_id="stalls", heading="Event-loop stalls: the loop "
                                  "thread's stacks while it was blocked, sized by stall time")
    profile = data.profile
    if profile is None:
        return None
    return flame_fragment(profile, dom_id="cpu", options={"idle": False},
                          heading="Where the time went: py-spy samples of every thread "
                                  "(waiting hidden; toggle it to see wall-clock time)")
