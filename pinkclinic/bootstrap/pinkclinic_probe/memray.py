"""Feature ``memray``: a memray capture of this process, ``memray-<PID>.bin``.

A ``memray.Tracker`` (not aggregated, so temporal analysis works) starts at startup and
is finalised at exit. Options: ``memray_native`` (native stacks), ``memray_follow_fork``:
the probe itself starts a fresh tracker in a forked child, writing
``memray-<childPID>.bin`` (memray's own ``follow_fork`` would name it
``memray-<PID>.bin.<childPID>``). Without it, a forked child is not tracked.
"""
import os
import sys


class _Memray:
    def __init__(self, probe, memray):
        self.probe = probe
        self.memray = memray
        self.native = bool(probe.opt("memray_native", False))
        self.follow_fork = bool(probe.opt("memray_follow_fork", False))
        self.tracker = None

    def start(self):
        name = f"memray-{os.getpid()}.bin"
        tracker = self.memray.Tracker(
            destination=self.memray.FileDestination(self.probe.path(name), overwrite=True),
            native_traces=self.native)
        tracker.__enter__()
        self.tracker = tracker
        return {"file": name, "native": self.native, "follow_fork": self.follow_fork}

    def stop(self):
        tracker, self.tracker = self.tracker, None
        if tracker is not None:
            tracker.__exit__(None, None, None)

    def after_fork(self):
        self.tracker = None  # the parent's tracker does not carry over (memray drops it)
        if self.follow_fork:
            rec = {"type": "feature", "feature": "memray", "state": "started"}
            rec.update(self.start())
            self.probe.write(rec)


def install(probe):
    try:
        import memray
    except ImportError as e:
        raise RuntimeError(f"memray is not importable by {sys.executable} "
                           f"(Python {sys.version.split()[0]}): {e}") from None
    m = _Memray(probe, memray)
    info = m.start()
    probe.on_exit(m.stop)
    probe.on_fork(m.after_fork)
    return info
