"""When requests may go out: the closed loop's budget, or rate mode's schedule.

Both pacers answer the same questions for the engine and its connections: fill a
connection that is ready (``kick``), take or give back work (``failed_connect``,
``give_back``), is there work for one more connection (``wants``), is all of it sent
(``exhausted``). A connection's hot path reads the closed loop's ``budget`` itself,
or calls the rate schedule's ``slot_free``.

* **closed loop** (no ``rate``): each connection keeps ``pipelining`` requests in
  flight; a response sends the next request at once, while the ``budget`` lasts.
* **rate**: request *k* is due at ``t0 + k * interval_ns`` (one schedule for all
  connections, so sends are spread evenly, not burst per second). A free connection
  takes a due request at once; with correction on, a request that had to wait in the
  backlog is timed from its due time (wrk2's method), so a server stall is charged to
  every request queued behind it. Otherwise the connection waits in ``idle_slots`` for
  the timer, and a request the timer sends is timed from its real send, so the timer's
  own millisecond granularity is never charged to the server.
"""

from __future__ import annotations

import asyncio
import math
from time import perf_counter_ns

from pinkclinic.load.core.spec import LoadSpec

FOREVER = 1 << 62


class ClosedLoop:
    """The closed loop: ``budget`` is how many requests may still be issued (0 until the
    start and after the end, ``FOREVER`` in a ``-d`` run)."""

    __slots__ = ("amount", "budget", "engine", "pipelining")
    closed = True

    def __init__(self, engine, spec: LoadSpec):
        self.engine = engine  # for check_done()
        self.pipelining = spec.pipelining
        self.amount = spec.amount
        self.budget = 0

    def start(self, start_ns: int, counting: bool) -> None:
        """The run starts; ``counting``: the ``-a`` amount counts from now (no warm-up)."""
        self.budget = self.amount if counting else FOREVER

    def count_from_now(self, left: int) -> None:
        """The warm-up is over: ``left`` requests of the amount remain to be sent."""
        self.budget = left

    def stop(self) -> None:
        """The load window is over: send nothing more."""
        self.budget = 0

    def kick(self, conn) -> None:
        """``conn`` is ready: fill its pipeline."""
        now = perf_counter_ns()
        for _ in range(self.pipelining):
            if self.budget <= 0:
                break
            self.budget -= 1
            conn.send(now, now)
        if not conn.pending:
            self.engine.check_done()

    def idle(self, conn) -> None:
        """``conn`` answered everything and there is nothing left to send."""
        self.engine.check_done()

    def failed_connect(self) -> None:
        """A connect failed: it counts as one request (so that ``-a`` runs end)."""
        if self.budget > 0:
            self.budget -= 1

    def give_back(self, n: int) -> None:
        """``n`` requests sent but not answered (their connection was retired) go back."""
        self.budget += n

    def wants(self, dialing: int) -> bool:
        """Is there work for one more connection? Each of the ``dialing`` connections not
        yet made will take a pipeline's worth of the budget: open no connection that would
        find nothing left to send (the server would count it)."""
        return self.budget > dialing * self.pipelining

    def exhausted(self) -> bool:
        return self.budget <= 0

    def unsent(self) -> int:
        """Requests of the amount not sent (0 for a ``-d`` run)."""
        return max(0, self.budget) if self.budget < FOREVER else 0

    def forget(self, conn) -> None:
        """``conn`` is gone (nothing of it is kept here)."""


class RateSchedule:
    """Rate mode: ``sent_k`` requests of the schedule are sent, ``limit_k`` may be."""

    __slots__ = ("amount", "armed", "correction", "engine", "idle_slots", "interval_ns",
                 "limit_k", "loop", "phase_ns", "pipelining", "sent_k", "span_s", "t0")
    closed = False

    def __init__(self, engine, spec: LoadSpec, phase_s: float = 0.0):
        self.engine = engine  # for finished and check_done()
        self.pipelining = spec.pipelining
        self.amount = spec.amount
        self.correction = spec.correction
        self.interval_ns = 1e9 / spec.rate
        self.phase_ns = phase_s * 1e9  # a worker's offset in the schedules of all workers
        self.span_s = spec.warmup + spec.duration
        self.sent_k = 0
        self.limit_k = FOREVER
        self.t0 = 0
        self.armed = False
        self.idle_slots: list = []  # free connections waiting for the timer
        self.loop: asyncio.AbstractEventLoop | None = None

    def start(self, start_ns: int, counting: bool) -> None:
        self.loop = asyncio.get_running_loop()
        self.t0 = start_ns + self.phase_ns
        if counting:
            self.limit_k = self.amount
        elif self.amount is not None:  # counted after the warm-up
            self.limit_k = FOREVER
        else:  # the requests due before the end: k / rate + phase < warmup + duration
            span_ns = self.span_s * 1e9 - self.phase_ns
            self.limit_k = max(0, math.ceil(span_ns / self.interval_ns))

    def count_from_now(self, left: int) -> None:
        self.limit_k = self.sent_k + left

    def stop(self) -> None:
        self.limit_k = min(self.limit_k, self.sent_k)

    def kick(self, conn) -> None:
        """``conn`` is ready: offer its pipeline's slots."""
        now = perf_counter_ns()
        for _ in range(self.pipelining):
            self.slot_free(conn, now)

    def due_k(self, now: int) -> int:
        k = math.floor((now - self.t0) / self.interval_ns) + 1
        return min(k, self.limit_k)

    def slot_free(self, conn, now: int) -> None:
        """A slot of ``conn`` is free: send a backlogged request now, or wait for the timer."""
        if self.sent_k < self.due_k(now):
            k = self.sent_k
            self.sent_k = k + 1
            origin = int(self.t0 + k * self.interval_ns) if self.correction else now
            conn.send(min(origin, now))
        else:
            self.idle_slots.append(conn)
            if not self.armed:
                self.arm(now)
            if self.sent_k >= self.limit_k:
                self.engine.check_done()

    def arm(self, now: int) -> None:
        if self.engine.finished or self.sent_k >= self.limit_k:
            return
        self.armed = True
        due = self.t0 + self.sent_k * self.interval_ns
        self.loop.call_later(max(0.001, (due - now) / 1e9), self.fire)

    def fire(self) -> None:
        self.armed = False
        if self.engine.finished:
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

    def failed_connect(self) -> None:
        if self.sent_k < self.limit_k:
            self.sent_k += 1

    def give_back(self, n: int) -> None:
        """Sent again from the backlog, so timed from their due times."""
        self.sent_k = max(self.sent_k - n, 0)

    def wants(self, dialing: int) -> bool:
        return self.sent_k < self.limit_k

    def exhausted(self) -> bool:
        return self.sent_k >= self.limit_k

    def unsent(self) -> int:
        return max(0, self.limit_k - self.sent_k) if self.limit_k < FOREVER else 0

    def forget(self, conn) -> None:
        if self.idle_slots and conn in self.idle_slots:
            self.idle_slots = [c for c in self.idle_slots if c is not conn]
