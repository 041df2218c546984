"""The engine's clock: waiting for a tick or the end, the sweep, closing everything at the end.

A mixin of ``engine.Engine`` (whose ``__init__`` sets every attribute used here).
Timeouts are found by a sweep every ``SWEEP_S`` (no timer per request), which
also cancels connects that take too long and closes connections that the
server retired once they have lingered ``LINGER_NS``.
"""

from __future__ import annotations

import asyncio
from time import perf_counter_ns

from pinkclinic.load.core.stats import TIMEOUT

SWEEP_S = 0.1
LINGER_NS = 1_000_000_000


class SweepMixin:
    def sweep(self) -> None:
        now = perf_counter_ns()
        limit = self.timeout_ns
        for conn in self.conns:
            if conn is not None and conn.pending and not conn.dead and now - conn.busy_since() > limit:
                conn.drop(TIMEOUT)
        for task, t in list(self.connecting.items()):
            if now - t > limit:
                del self.connecting[task]  # counted as a timeout by _opened, not as connecting
                task.cancel()
        for conn, t in list(self.retiring.items()):
            if now - t > LINGER_NS:
                del self.retiring[conn]
                if not conn.dead:
                    conn.dead = True
                    conn.transport.close()

    def stalled(self) -> bool:
        """Can nothing ever happen again in an ``-a`` run that is not done? No request in
        flight, no connect in progress or waiting out a backoff, and no open connection
        that could take the requests left: only a bug of the engine leads here, and the
        run ends at once (``ended_by = "stall"``) instead of waiting for its deadline."""
        if not self.started or self.finished or self.amount is None or not self.closed_loop:
            return False
        if self.budget <= 0 or self.dialing or self.reopening or self.tasks:
            return False
        return not any(c is not None and not c.dead and not c.closing for c in self.conns)

    def stopped(self) -> bool:
        return self.stop_event is not None and self.stop_event.is_set()

    async def _wait_until(self, t_ns: int, end_ns: int | None) -> str:
        while True:
            if self.stopped():
                return "stop"
            if self.done_fut.done():
                return "done"

            now = perf_counter_ns()
            if now >= t_ns:
                return "end" if end_ns is not None and now >= end_ns else "tick"
            wait = min(SWEEP_S, (t_ns - now) / 1e9)
            try:
                await asyncio.wait_for(asyncio.shield(self.done_fut), wait)
            except asyncio.TimeoutError:
                pass
            self.sweep()
            if self.stalled():
                return "stall"

    def _end(self, now: int, interrupted: bool) -> dict:
        inflight = sum(len(c.pending) for c in self.conns if c is not None)
        # connects neither done nor timed out (-t) yet
        connecting = sum(1 for t in self.connecting if not t.done())
        for conn in self.conns:
            if conn is not None and not conn.dead:
                conn.dead = True
                if conn.transport is not None:
                    conn.transport.abort()
        for conn in self.retiring:
            if not conn.dead and conn.transport is not None:
                conn.dead = True
                conn.transport.close()
        for t in list(self.tasks):
            t.cancel()
        return {"inflight": inflight, "interrupted": interrupted, "connecting": connecting,
                "connected": self.ever_connected, "started": self.started, "end_ns": now,
                "ended_by": self.ended_by, "unsent": self.left,
                "deadline_s": self.deadline_s}
