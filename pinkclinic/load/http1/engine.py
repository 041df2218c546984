"""The load engine of one process: connections, pacing, ticks, timeouts and the end of a run.

Two modes:

* **closed loop** (no ``rate``): each connection keeps ``pipelining`` requests
  in flight; a response sends the next request at once.
* **rate**: request *k* is due at ``t0 + k / rate`` (one schedule for all
  connections, so sends are spread evenly, not burst per second). A due request
  goes out on a free connection; if none is free it waits in the backlog and,
  with correction on, its latency is measured from its due time (wrk2's method),
  so a server stall is charged to every request queued behind it. A request
  sent by the pacing timer on a free connection is timed from its real send,
  so the timer's own millisecond granularity is never charged to the server.

Timeouts are found by a sweep every 100 ms (no timer per request). Bins are cut
once a second and handed to ``on_bin``; the caller merges them (stats.Aggregator).

``Engine`` holds the state and the run (start, warm-up, ticks, drain); its
methods live in mixins: ``engine_conns`` (connections and reconnects),
``engine_pacing`` (rate mode's schedule), ``engine_sweep`` (waiting, the
timeout sweep, closing everything at the end).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from time import perf_counter_ns

from pinkclinic.load.core.spec import IdSource, LoadSpec
from pinkclinic.load.core.stats import DRAIN_MAX_S, Recorder
from pinkclinic.load.http1.conn import H1Conn
from pinkclinic.load.http1.connections import ConnsMixin
from pinkclinic.load.http1.encode import encoders
from pinkclinic.load.http1.pacing import PacingMixin
from pinkclinic.load.http1.sweep import SweepMixin

FOREVER = 1 << 62
CONNECT_WAIT_S = 1.0  # how long the first connects may delay the start of the clock
BACKOFF_MAX_S = 1.0  # the longest wait before a failed connect is tried again


def amount_deadline_s(spec: LoadSpec) -> float:
    """The longest an ``-a`` run can take if every request ends as it must: each connection
    works through its share of the amount one pipeline at a time, and each round ends within
    ``-t`` (an answer or a timeout) plus one reconnect's backoff. Past it, the run is stuck."""
    per_round = spec.timeout + BACKOFF_MAX_S
    rounds = math.ceil(spec.amount / (spec.connections * spec.pipelining))
    worst = rounds * per_round
    if spec.rate:  # the schedule itself takes amount / rate
        worst = max(worst, spec.amount / spec.rate + per_round)
    return spec.warmup + CONNECT_WAIT_S + worst + spec.timeout


class Engine(ConnsMixin, PacingMixin, SweepMixin):
    def __init__(self, spec: LoadSpec, on_bin: Callable[[dict], None], *,
                 stop: threading.Event | None = None, ids: IdSource | None = None,
                 rate_phase: float = 0.0):
        self.spec = spec
        self.on_bin = on_bin
        self.stop_event = stop
        self.rec = Recorder()
        self.encoders = encoders(spec, ids or IdSource())
        self.has_head = any(e.is_head for e in self.encoders)
        single = len(self.encoders) == 1 and self.encoders[0].const is not None
        self.static_req = self.encoders[0].const if single and not self.has_head else None
        self.closed_loop = spec.rate is None
        self.pipelining = spec.pipelining
        self.timeout_ns = int(spec.timeout * 1e9)
        self.budget = 0  # requests that may still be issued (0 until the start)
        self.amount = spec.amount
        self.conns: list[H1Conn | None] = [None] * spec.connections
        self.connecting: dict[asyncio.Task, int] = {}  # connect task -> its start (ns)
        self.tasks: dict[asyncio.Task, H1Conn] = {}  # open() task -> its connection
        self.dialing: set[H1Conn] = set()  # connections opened but not yet made
        self.reopening = 0  # opens waiting out a backoff (open(slot, delay))
        self.deadline_s = 0.0 if spec.amount is None else amount_deadline_s(spec)
        self.left = 0  # requests of an -a run not yet sent when its load window ended
        self.ended_by = ""  # "deadline" or "stall" when an -a run could not finish
        self.fails = [0] * spec.connections
        self.seq_pos = [0] * spec.connections  # each slot's next step of the sequence
        self.was_connected = [False] * spec.connections  # for counting reconnects exactly
        self.retiring: dict[H1Conn, int] = {}
        self.started = False
        self.draining = False
        self.precise = False  # set once a server closes a connection: see http1_closing
        self.finished = False
        self.ever_connected = False
        # rate mode
        self.idle_slots: list[H1Conn] = []
        self.interval_ns = 1e9 / spec.rate if spec.rate else 0.0
        self.phase_ns = rate_phase * 1e9
        self.sent_k = 0
        self.limit_k = FOREVER
        self.sched_t0 = 0
        self.armed = False
        self.done_fut: asyncio.Future | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.addr: tuple | None = None

    # -- the run ----------------------------------------------------------------------------
    async def connect_all(self) -> None:
        """Open every connection; wait for them up to ``CONNECT_WAIT_S`` (or ``-t``).

        A connect still pending then is not cancelled: it goes on into the run, whose
        sweep counts it as a timeout once it is ``-t`` old, so a server that never
        accepts still gets a run that ends on time, with its timeouts counted.
        """
        self.loop = asyncio.get_running_loop()
        await self.resolve()
        for slot in range(self.spec.connections):
            self.open(slot)
        first = list(self.tasks)
        deadline = time.monotonic() + min(self.spec.timeout, CONNECT_WAIT_S)
        while (any(not t.done() for t in first) and time.monotonic() < deadline
               and not self.stopped()):
            await asyncio.sleep(0.005)
        await asyncio.sleep(0)  # the done callbacks of the last connects

    async def run(self, go_ns: int | None = None) -> dict:
        """Run after ``connect_all``; start at ``go_ns`` (perf_counter ns). Returns end info."""
        spec = self.spec
        loop = self.loop
        self.done_fut = loop.create_future()
        if go_ns is not None:
            while perf_counter_ns() < go_ns:
                await asyncio.sleep(max(0.0, min(0.05, (go_ns - perf_counter_ns()) / 1e9)))
        if not self.ever_connected and not self.tasks:  # every connect failed: end now
            self.finished = True
            self.t0_ns, self.t0_epoch = perf_counter_ns(), time.time()
            self.on_bin(self.rec.cut(0, 0.0))
            return self._end(self.t0_ns, interrupted=self.stopped())
        start = perf_counter_ns()
        self.started = True
        self.sched_t0 = start + self.phase_ns
        amount_now = spec.amount is not None and not spec.warmup  # -a counts after the warm-up
        self.budget = spec.amount if amount_now else FOREVER
        if not self.closed_loop:
            self.budget = 0
            if amount_now:
                self.limit_k = spec.amount
            elif spec.amount is not None:
                self.limit_k = FOREVER
            else:  # the requests due before the end: k / rate + phase < warmup + duration
                span_ns = (spec.warmup + spec.duration) * 1e9 - self.phase_ns
                self.limit_k = max(0, math.ceil(span_ns / self.interval_ns))
        for conn in list(self.conns):
            if conn is not None and conn.transport is not None:
                self.kick(conn)
        for slot, conn in enumerate(self.conns):
            if conn is None:
                self.open(slot)
        if spec.warmup:
            await self._wait_until(start + int(spec.warmup * 1e9), None)
            self.rec.cut(-1, 0.0)  # warm-up is not counted
            start = perf_counter_ns()
            if spec.amount is not None:  # answers still due count towards the amount
                inflight = sum(len(c.pending) for c in self.conns if c is not None)
                left = max(0, spec.amount - inflight)
                if self.closed_loop:
                    self.budget = left
                else:
                    self.limit_k = self.sent_k + left
                self.check_done()
        self.t0_ns = start
        self.t0_epoch = time.time()
        if spec.amount is None:
            end_ns = start + int(spec.duration * 1e9)
        else:  # a deadline that a run which works as it must never reaches
            end_ns = start + int((self.deadline_s - spec.warmup) * 1e9)
        i = 0
        interrupted = False
        while True:
            tick_ns = start + (i + 1) * 1_000_000_000
            reason = await self._wait_until(min(tick_ns, end_ns), end_ns)
            if reason == "tick":
                self.on_bin(self.rec.cut(i, 1.0))
                i += 1
                continue
            interrupted = reason == "stop"
            break
        # the load window ends here: the measured duration (and so req/s) stops at it
        load_end = min(end_ns, perf_counter_ns()) if reason == "end" else perf_counter_ns()
        self.left = self.unsent()  # before the drain stops all sending
        if reason in ("end", "stall") and spec.amount is not None:
            self.ended_by = "deadline" if reason == "end" else "stall"
        if reason == "end":  # duration reached: issue nothing more, let in-flight answers land
            self.budget = 0
            self.limit_k = min(self.limit_k, self.sent_k)
            self.draining = True
            self.check_done()
            drain = min(spec.timeout, DRAIN_MAX_S)
            await self._wait_until(perf_counter_ns() + int(drain * 1e9), None)
        self.finished = True
        # answers that landed in the drain count (autocannon counts them too, wrk drops
        # them) in the last bin, whose length runs to the end of the drain so that its
        # rate is not inflated; the run's duration (and req/s) still stops at load_end
        self.on_bin(self.rec.cut(i, max(0, perf_counter_ns() - (start + i * 1_000_000_000))
                                 / 1e9))
        return self._end(load_end, interrupted)

    def unsent(self) -> int:
        """Requests of an ``-a`` run never sent (0 for a -d run, or one that finished)."""
        if self.amount is None or not self.started:
            return 0
        if self.closed_loop:
            return max(0, self.budget) if self.budget < FOREVER else 0
        return max(0, self.limit_k - self.sent_k) if self.limit_k < FOREVER else 0
