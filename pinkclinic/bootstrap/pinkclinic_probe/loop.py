"""Feature ``loop``: event-loop lag and blocked-loop stacks, for asyncio and uvloop.

Records ``loop`` (start/stop per loop thread), ``lag`` (per ``lag_interval_ms``) and
``block`` (a stall past ``block_ms``, with the loop thread's stack taken while stalled
and whether it was on-CPU). The mechanics are in ``_loops`` and ``_watch``.
Options: ``tick_ms`` (10), ``block_ms`` (30), ``lag_interval_ms`` (100).
"""
from . import _loops


def install(probe):
    _loops.enable(probe, lag=True)
    return {"tick_ms": probe.opt("tick_ms", 10), "block_ms": probe.opt("block_ms", 30)}
