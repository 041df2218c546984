"""Rate mode's pacing: request *k* is due at ``sched_t0 + k * interval_ns``.

A mixin of ``engine.Engine`` (whose ``__init__`` sets every attribute used here).
A free connection takes a due request at once (timed from its due time with
correction on, wrk2's method); otherwise it waits in ``idle_slots`` for the
timer, and a request the timer sends is timed from its real send.
"""

from __future__ import annotations

import math
from time import perf_counter_ns

from pinkclinic.load.http1.conn import H1Conn


class PacingMixin:
    def due_k(self, now: int) -> int:
        k = math.floor((now - self.sched_t0) / self.interval_ns) + 1
        return min(k, self.limit_k)

    def slot_free(self, conn: H1Conn, now: int) -> None:
        """A rate-mode slot is free: send a backlogged request now, or wait for the timer."""
        if self.sent_k < self.due_k(now):
            k = self.sent_k
            self.sent_k = k + 1
            origin = int(self.sched_t0 + k * self.interval_ns) if self.spec.correction else now
            conn.send(min(origin, now))
        else:
            self.idle_slots.append(conn)
            if not self.armed:
                self.arm(now)
            if self.sent_k >= self.limit_k:
                self.check_done()

    def arm(self, now: int) -> None:
        if self.finished or self.sent_k >= self.limit_k:
            return
        self.armed = True
        due = self.sched_t0 + self.sent_k * self.interval_ns
        self.loop.call_later(max(0.001, (due - now) / 1e9), self.fire)

    def fire(self) -> None:
        self.armed = False
        if self.finished:
            return
        now = perf_counter_ns()
        due = self.due_k(now)
        idle = self.idle_slots
        while self.sent_k < due and idle:
            conn = idle.pop()
            if conn.dead or conn.closing:
                continue
            self.sent_k += 1
            conn.send(now)  # on time but for the timer's granularity: timed from the real send
        if self.sent_k >= due:
            self.arm(now)
        # else: a backlog; slot_free() pulls from it as responses free connections
