"""Feature ``loop``: event-loop lag and blocked-loop stacks, for asyncio and uvloop.

Records ``loop`` (start/stop per loop thread), ``lag`` (per ``lag_interval_ms``) and
``block`` (a stall past ``block_ms``, with the loop thread's stack taken while stalled
and whether it was on-CPU). The mechanics are in ``_loops`` and ``_watch``.
Options: ``tick_ms`` (10, on alert), ``calm_tick_ms`` (20, on a calm loop), ``block_ms``
(30), ``lag_interval_ms`` (100).
"""
from . import _loops
from ._watch import tick_intervals


def install(probe):
    _loops.enable(probe, lag=True)
    tick_s, calm_s, block_s = tick_intervals(probe)
    return {"tick_ms": round(tick_s * 1000, 3), "calm_tick_ms": round(calm_s * 1000, 3),
            "block_ms": round(block_s * 1000, 3)}
