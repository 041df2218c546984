"""The probe injected into a live process (``--pid``), and its removal.

A launched target starts the probe from ``sitecustomize`` before its own code runs;
an attached one gets this module's :func:`attach` called once, from injected code,
in whichever thread the injector borrowed (see ``pinkclinic/target/inject.py``).
That thread must be handed back at once, so :func:`attach` only starts the probe's
``attach`` thread, which does the rest with no help from the target's code:

- the ``gc``, ``threads`` and ``routes`` features install as in a launched run
  (``routes`` also wraps the apps a running uvicorn or gunicorn already holds);
- ``loop`` and ``tasks``: the running event loops (asyncio's and uvloop's, both
  ``asyncio.AbstractEventLoop``) are found by one scan of ``gc.get_objects()``; each
  gets one callback through ``call_soon_threadsafe`` that runs in its own thread and
  starts that thread's watcher, as ``_set_running_loop`` would have. Nothing is
  patched, so a loop created after the attach is not watched; a watched loop that
  stops and runs again is followed (checked every ``POLL_S``). With ``waits_ms``
  (doctor, ``pinkclinic waits``), ``tasks`` also takes the await-chain snapshots, and
  the threads that run no loop are snapshotted on the sampler thread, as launched.

Then it waits for the end: the file ``probe-<PID>.detach`` in the recording folder,
the end of the pinkclinic process that attached (``owner``), the folder gone, or
``max_s``. Removal (:func:`_detach`) undoes everything: the GC callback leaves
``gc.callbacks``, the servers ``routes`` wrapped get their apps back, the watchers and
the sampler stop and are joined, the stream is closed, and the ``pinkclinic_probe`` modules leave ``sys.modules``, so a second
attach starts afresh. A ``detached`` record lists any probe thread still alive.

A child forked while attached writes nothing (records are dropped when the PID
changes) and its GC callback does nothing else.
"""
import gc
import os
import sys
import threading
import time

from . import _loops, _watch
from ._core import THREAD_PREFIX, Probe

FEATURES = ("loop", "gc", "tasks", "threads", "memray", "routes")
POLL_S = 0.25  # each look is a wake-up of the attach thread: ~57 µs of the process's CPU
# on a VM (bench/results/beat_wakeups.md), 0.5% of a server using 0.1 core at 10 a second
INJECTED_WAIT_S = 5.0
JOIN_S = 2.0

_current = {"probe": None}


class AttachedProbe(Probe):
    def write(self, rec):
        # a forked child writes nothing; and the interpreter does not exit at a detach
        # (``shutdown`` writes ``exit``): the ``detached`` record says the probe left
        if os.getpid() == self.pid and rec.get("type") != "exit":
            Probe.write(self, rec)


def attach(config):
    """Called by the injected code: start the probe's thread; return a one-line reason
    when it cannot start (another pinkclinic is attached), else ``None``."""
    if _current["probe"] is not None:
        return "another pinkclinic probe is attached to this process"
    probe = AttachedProbe(config)
    probe.features = [f for f in probe.features if f in FEATURES]
    probe.open()
    _current["probe"] = probe
    probe.spawn("attach", _run, probe)
    return None


def _run(probe):
    _wait_for_the_injector(probe)
    try:
        _install(probe)
    except Exception as e:  # whatever failed, the probe still leaves at the end
        probe.error("attach", f"{type(e).__name__}: {e}")
    try:
        _wait_for_the_end(probe)
    finally:
        _detach(probe)


def _wait_for_the_injector(probe):
    """Until the injector has let go of the thread it borrowed (``probe-<PID>.injected``,
    written when its call returned): memray's tracker, which rewrites every loaded
    library's symbol table, aborted the process when it ran while hypno's library was
    being unloaded from that thread. Gives up waiting after ``INJECTED_WAIT_S``."""
    go = probe.path(f"probe-{probe.pid}.injected")
    deadline = time.monotonic() + INJECTED_WAIT_S
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.005)


def _install(probe):
    t0 = time.time()
    probe.write({"type": "attached", "via": probe.opt("via", "injection")})
    probe.on_exit(lambda: [probe.write({"type": "feature", "feature": n, "state": "stopped"})
                           for n in probe.started])
    for name in probe.features:
        if name in ("gc", "threads", "memray", "routes"):
            from . import install
            if install(probe, name):
                probe.started.append(name)
    loops = [f for f in ("loop", "tasks") if f in probe.features]
    if loops:
        _watch_loops(probe, loops)
    probe.write({"type": "attach-ready", "ms": round((time.time() - t0) * 1000, 1)})


def running_loops():
    """The event loops running in this process right now (asyncio imported or not)."""
    events = sys.modules.get("asyncio.events")
    base = getattr(events, "AbstractEventLoop", None)  # None while asyncio is half-imported
    if base is None or not hasattr(events, "_get_running_loop"):
        return []
    found = []
    for obj in gc.get_objects():
        try:
            if isinstance(obj, base) and obj.is_running():
                found.append(obj)
        except Exception:
            pass
    return found


def _watch_loops(probe, features):
    _loops._state.update(probe=probe, lag="loop" in features, tasks="tasks" in features)
    probe.on_exit(_loops._at_exit)
    loops = running_loops()
    for loop in loops:
        try:
            loop.call_soon_threadsafe(_adopt, loop)
        except Exception as e:
            probe.error("loop", f"{type(e).__name__}: {e}")
    for name in features:
        rec = {"type": "feature", "feature": name, "state": "started", "loops_found": len(loops)}
        if name == "tasks":  # the loops' task snapshots every waits_ms, and the threads'
            from .tasks import start_thread_waits
            rec.update(start_thread_waits(probe))
        probe.write(rec)
        probe.started.append(name)


def _adopt(loop):
    """In the loop's own thread: watch it, as ``_set_running_loop`` would have started."""
    events = sys.modules.get("asyncio.events")
    if events is not None and events._get_running_loop() is loop:
        _loops._loop_changed(loop)


def _follow_loops(stopped):
    """Nothing tells an attached probe that a loop stopped or ran again (no hook is
    patched): a watched loop seen stopped is stopped for its watcher (whose pending tick
    must not count as a stall), and adopted again when it runs."""
    with _loops._lock:
        watchers = list(_loops._watchers.values())
    for watcher in watchers:
        loop = watcher.loop
        if loop is not None and not loop.is_running():
            watcher.stopped()
            stopped.append(loop)
    for loop in list(stopped):
        if loop.is_running():
            stopped.remove(loop)
            loop.call_soon_threadsafe(_adopt, loop)
        elif loop.is_closed():
            stopped.remove(loop)


def _wait_for_the_end(probe):
    stop_file = probe.path(f"probe-{probe.pid}.detach")
    owner = probe.opt("owner", None)
    deadline = time.monotonic() + float(probe.opt("max_s", 3600))
    stopped = []  # watched loops seen stopped
    while time.monotonic() < deadline and os.getpid() == probe.pid:
        try:
            _follow_loops(stopped)
        except Exception as e:
            probe.error("loop", f"{type(e).__name__}: {e}")
        if os.path.exists(stop_file):
            return "asked"
        if not os.path.isdir(probe.dir):
            return "folder gone"
        if owner and not os.path.exists(f"/proc/{owner}"):
            return "owner gone"
        time.sleep(POLL_S)
    return "time"


def _detach(probe):
    """Undo everything :func:`attach` did; runs on the probe's ``attach`` thread."""
    try:
        probe.shutdown()  # GC callback removed, loop runs closed, feature stop records
        probe.running = False
        probe._wake.set()
        _watch.LEAVE_AFTER_S = 0.0
        with _loops._lock:
            watchers = list(_loops._watchers.values())
        for watcher in watchers:  # their runs were closed by shutdown(): now they leave
            watcher.stopped()
            watcher.stopped_at = None
        me = threading.current_thread()
        deadline = time.monotonic() + JOIN_S
        for t in threading.enumerate():
            if t is not me and t.name.startswith(THREAD_PREFIX):
                t.join(max(0.0, deadline - time.monotonic()))
        left = sorted(t.name for t in threading.enumerate()
                      if t is not me and t.name.startswith(THREAD_PREFIX))
        probe.write({"type": "detached", "threads_left": left,
                     "gc_callbacks": len(gc.callbacks)})
    finally:
        if probe.writer is not None:
            probe.writer.close()
        _current["probe"] = None
        for name in [n for n in sys.modules if n == "pinkclinic_probe"
                     or n.startswith("pinkclinic_probe.")]:
            sys.modules.pop(name, None)
