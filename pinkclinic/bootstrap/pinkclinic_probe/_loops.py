"""Find running event loops (asyncio and uvloop) and watch each loop thread.

Discovery: asyncio calls ``asyncio.events._set_running_loop(loop)`` when a loop starts
running on a thread and ``(None)`` when it stops; uvloop calls the function it took from
``asyncio._set_running_loop`` when uvloop was imported. Both names are wrapped as soon
as asyncio has been imported (``_imphook``), which is before uvloop can take its copy.

Each loop thread gets one watcher thread (``_watch.Watcher``). Runs of loops on the
same thread less than ``STOP_GRACE_S`` apart (``asyncio.run``'s phases, or a new loop
per request) count as one: one ``loop`` start record, one stop record.
"""
import os
import sys
import threading

from . import _imphook
from ._watch import Watcher

_state = {"probe": None, "lag": False, "tasks": False, "patched": False}
_watchers = {}  # thread ident -> Watcher
_lock = threading.Lock()


def enable(probe, lag=False, tasks=False):
    """Called by the ``loop`` and ``tasks`` features; the first call installs the hook."""
    first = _state["probe"] is None
    _state["probe"] = probe
    _state["lag"] = _state["lag"] or lag
    _state["tasks"] = _state["tasks"] or tasks
    if first:
        if "uvloop.loop" in sys.modules and "asyncio" in sys.modules:
            probe.error("loop", "uvloop was imported before the probe started; "
                                "its loops are not watched")
        _imphook.when_imported("asyncio", _patch)
        probe.on_fork(_after_fork)
        probe.on_exit(_at_exit)


def _patch(asyncio):
    if _state["patched"]:
        return
    events = asyncio.events
    original = events._set_running_loop

    def _set_running_loop(loop):
        original(loop)
        try:
            _loop_changed(loop)
        except Exception:
            pass

    _set_running_loop.__wrapped__ = original
    _set_running_loop.__doc__ = original.__doc__
    events._set_running_loop = _set_running_loop
    if getattr(asyncio, "_set_running_loop", None) is original:
        asyncio._set_running_loop = _set_running_loop
    _state["patched"] = True
    running = events._get_running_loop()
    if running is not None:  # asyncio was imported and a loop started before the probe
        _loop_changed(running)


def _loop_changed(loop):
    """Runs in the loop's own thread, right after the running loop was set or cleared."""
    probe = _state["probe"]
    if probe is None or os.getpid() != probe.pid:
        return
    ident = threading.get_ident()
    if ident in probe.own_idents():
        return
    with _lock:
        watcher = _watchers.get(ident)
        if loop is None:
            if watcher is not None:
                watcher.stopped()
            return
        if watcher is None or watcher.exited:
            watcher = Watcher(probe, ident, lag=_state["lag"], tasks=_state["tasks"],
                              forget=_forget)
            _watchers[ident] = watcher
            new = True
        else:
            new = False
    watcher.started(loop)
    if new:
        probe.spawn(f"loop-{watcher.tid}", watcher.run)


def _forget(watcher):
    """A watcher whose thread ran no loop for a while leaves; returns False if a loop
    started meanwhile (then it carries on)."""
    with _lock:
        if watcher.loop is not None:
            return False
        watcher.exited = True
        if _watchers.get(watcher.ident) is watcher:
            del _watchers[watcher.ident]
        return True


def _after_fork():
    with _lock:
        for watcher in _watchers.values():
            watcher.close()
        _watchers.clear()
    events = sys.modules.get("asyncio.events")
    loop = events._get_running_loop() if events is not None else None
    if loop is not None:  # forked from inside a running loop: watch it in the child too
        _loop_changed(loop)


def _at_exit():
    with _lock:
        watchers = list(_watchers.values())
    for watcher in watchers:
        watcher.finish()
