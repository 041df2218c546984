"""Evidence from py-spy's stacks: busy code per thread, loop threads, waits.

py-spy samples every thread of the tree at a fixed rate with ``--idle``, so a
thread's samples split into *idle* (its leaf is a known wait: a selector, a
condition, epoll) and *busy* (anything else: running Python, or blocked in a
C call made from Python, or waiting for the GIL). Comparing busy time with the
CPU time psutil measured tells running from waiting; the threads' states the
sampler read from ``/proc`` tell a GIL wait from a sleep (:mod:`.gil`).

Everything here looks at the load window only (``RecordingData.window_profile``:
pinkclinic's own probe threads and frames are already left out).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from pinkclinic.analysis.culprits import serves_no_request, user_frames
from pinkclinic.analysis.data import RecordingData
from pinkclinic.errors import PinkError
from pinkclinic.profile import export
from pinkclinic.recording import Recording

_LOOP_FUNCS = ("run_forever", "_run_once", "Runner.run", "run_until_complete")
_LOOP_FILES = ("asyncio/base_events.py", "asyncio/runners.py", "uvloop/__init__.py")


def frames_of(profile, frames: tuple[int, ...]) -> list[list]:
    out = []
    for i in frames:
        f = profile.frames[i]
        if f.function.startswith("<"):  # synthetic <idle>/<await> leaves
            continue
        out.append([f.function, f.file, f.line])
    return out


def is_loop_thread_stack(profile, frames: tuple[int, ...]) -> bool:
    for i in frames:
        f = profile.frames[i]
        if f.file.replace("\\", "/").endswith(_LOOP_FILES) and f.function.endswith(_LOOP_FUNCS):
            return True
    return False


def thread_summary(data: RecordingData) -> dict[int, dict]:
    """thread index -> {pid, tid, name, busy, idle, loop, stacks: [(frames, weight)]}."""
    p = data.window_profile
    out: dict[int, dict] = {}
    if p is None:
        return out
    for t, frames, w, _ in p.iter_stacks(idle=True):
        info = p.threads[t]
        s = out.setdefault(t, {"pid": info.pid, "tid": info.tid, "name": info.name, "busy": 0.0,
                               "idle": 0.0, "loop": False, "stacks": []})
        if p.is_idle(frames):
            s["idle"] += w
        else:
            s["busy"] += w
            s["stacks"].append((frames, w))
        if not s["loop"] and is_loop_thread_stack(p, frames):
            s["loop"] = True
    return out


def busy_stacks(rec: Recording | RecordingData, limit: int = 200) -> Iterator[tuple[list, float]]:
    """The heaviest busy stacks as ([[func, file, line], ...], weight)."""
    data = rec if isinstance(rec, RecordingData) else RecordingData(rec)
    p = data.window_profile
    if p is None:
        return iter(())
    merged: dict[tuple, float] = defaultdict(float)
    for _, frames, w, _ in p.iter_stacks(idle=False):
        merged[frames] += w
    top = sorted(merged.items(), key=lambda kv: -kv[1])[:limit]
    return ((frames_of(p, frames), w) for frames, w in top)


def rate_hz(data: RecordingData) -> float:
    return float(data.rec.manifest.get("streams", {}).get("pyspy", {}).get("rate_hz") or 100)


def export_stacks(rec: Recording | RecordingData, fmt: str) -> str:
    p = (rec if isinstance(rec, RecordingData) else RecordingData(rec)).profile
    if p is None:
        raise PinkError(f"{rec.path} has no stack samples to export")
    return export(p, fmt)


def wait_stacks(data: RecordingData) -> list[tuple[list, float]]:
    """Where the server waited, best evidence first.

    1. suspended asyncio tasks whose await chain passes through the user's code (the
       probe's ``waits`` records);
    2. py-spy's busy samples of non-loop threads in the user's code (threads blocked
       in a call, e.g. a gthread worker waiting on an upstream);
    3. whatever else was seen waiting (framework-only tasks or threads), so a culprit
       is still named when no user code is involved.
    Tasks parked in the framework (an idle keep-alive connection) are not what requests
    wait on, unless nothing else is; a task or thread that serves no request (a
    server's accept or control loop, gunicorn's arbiter) is never a culprit.
    """
    def mine(stacks):
        return [(st, n) for st, n in stacks if user_frames(st)]

    w = data.window
    tasks: list[tuple[list, float]] = []
    for r in data.probe.get("waits", []):
        if w is None or w.contains(r.get("t", 0.0)):
            tasks += [(stack, float(count)) for stack, count in r.get("stacks", [])]
    threads: list[tuple[list, float]] = []
    p = data.window_profile
    if p is not None:
        for s in thread_summary(data).values():
            if not s["loop"]:
                threads += [(frames_of(p, frames), wt) for frames, wt in s["stacks"]]
    tasks = [(st, n) for st, n in tasks if not serves_no_request(st)]
    threads = [(st, n) for st, n in threads if not serves_no_request(st)]
    return mine(tasks) or mine(threads) or tasks or threads
