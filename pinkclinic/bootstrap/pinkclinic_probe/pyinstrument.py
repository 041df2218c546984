"""Feature ``pyinstrument``: a pyinstrument profile of the main thread, in segments.

``pyinstrument.Profiler(async_mode="enabled")`` starts on the main thread at startup, in
the base context, so every asyncio task inherits it and awaits are attributed to the
awaiting coroutine. Every ``pyinstrument_segment_s`` (1.0) the samples recorded so far
are taken out of the running session and appended to ``pyinstrument-<PID>.jsonl`` as
one segment of weighted stacks; a crash loses at most one segment.

The profiler is not stopped and restarted between segments: a restart from another
context would rebind pyinstrument's context variable and break its async tracking.
The samples are swapped out of ``Profiler._active_session.frame_records`` instead
(pyinstrument 4.x and 5.x). Options: ``pyinstrument_interval_s`` (0.001).
"""
import sys
import threading
import time

from ._core import SCHEMA_VERSION, Writer

_SEP, _ATTR = "\x00", "\x01"
_SYNTHETIC = ("[await]", "[out-of-context]")


def _frame(info, cache):
    out = cache.get(info)
    if out is None:
        ident, _, attrs = info.partition(_ATTR)
        parts = ident.split(_SEP)
        func = parts[0]
        path = parts[1] if len(parts) > 1 else ""
        line = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
        for attr in attrs.split(_ATTR) if attrs else ():
            if attr[:1] == "l" and attr[1:].isdigit():
                line = int(attr[1:])
            elif attr[:1] == "c" and attr[1:]:
                func = attr[1:] + "." + func
        out = cache[info] = (func, path, line)
    return out


def _kind(frames):
    if frames and frames[-1][0] in _SYNTHETIC:
        return "await"
    for func, path, _ in reversed(frames[-3:]):
        if path.endswith("selectors.py") and func.endswith("select"):
            return "idle"
    return "cpu"


class _Segments:
    def __init__(self, probe, profiler, interval):
        self.probe = probe
        self.profiler = profiler
        self.interval = interval
        self.cache = {}
        self.lock = threading.Lock()
        self.open()

    def open(self):
        name = f"pyinstrument-{self.probe.pid}.jsonl"
        self.file = name
        self.writer = Writer(self.probe.path(name), {
            "schema_version": SCHEMA_VERSION, "stream": "pyinstrument", "pid": self.probe.pid,
            "interval_s": self.interval, "async_mode": "enabled",
            "thread_id": threading.get_native_id(), "t": time.time()})
        self.t0 = time.time()

    def after_fork(self):
        self.lock = threading.Lock()
        self.writer.abandon()
        self.open()
        self.probe.write({"type": "feature", "feature": "pyinstrument", "state": "started",
                          "file": self.file})

    def rotate(self):
        with self.lock:
            session = getattr(self.profiler, "_active_session", None)
            if session is None:
                return
            records, session.frame_records = session.frame_records, []
            t0, t1 = self.t0, time.time()
            self.t0 = t1
            totals = {}
            for stack, seconds in records:
                key = tuple(stack)
                totals[key] = totals.get(key, 0.0) + seconds
            stacks = []
            for key, seconds in totals.items():
                frames = [_frame(info, self.cache) for info in key]
                stacks.append({"frames": [list(f) for f in frames if f[0] not in _SYNTHETIC],
                               "seconds": round(seconds, 6), "kind": _kind(frames)})
            stacks.sort(key=lambda s: -s["seconds"])
            self.writer.write({"t0": t0, "t1": t1, "stacks": stacks})

    def stop(self):
        self.rotate()
        if threading.current_thread() is threading.main_thread():
            try:
                self.profiler.stop()
            except Exception:
                pass


def install(probe):
    try:
        import pyinstrument
    except ImportError as e:
        raise RuntimeError(f"pyinstrument is not importable by {sys.executable} "
                           f"(Python {sys.version.split()[0]}): {e}") from None
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("the probe did not start on the main thread")
    interval = float(probe.opt("pyinstrument_interval_s", 0.001))
    profiler = pyinstrument.Profiler(interval=interval, async_mode="enabled")
    profiler.start(caller_frame=sys._getframe(0))
    if not hasattr(getattr(profiler, "_active_session", None), "frame_records"):
        profiler.stop()
        version = getattr(pyinstrument, "__version__", "?")
        raise RuntimeError(f"pyinstrument {version} has no Profiler._active_session.frame_records")
    segments = _Segments(probe, profiler, interval)
    probe.every(float(probe.opt("pyinstrument_segment_s", 1.0)), segments.rotate, "pyinstrument")
    probe.on_exit(segments.stop)
    probe.on_fork(segments.after_fork)
    return {"file": segments.file, "version": getattr(pyinstrument, "__version__", None)}
