"""The load engine of one process: the run and its clock (start, warm-up, ticks, the end,
the drain), over three objects that each own their state:

* :class:`~pinkclinic.load.http1.connections.Connections`: the connections, their
  opening, failures, replacement and timeouts;
* a pacer (:mod:`pinkclinic.load.http1.pacing`): when requests may go out, the closed
  loop's budget or rate mode's schedule;
* a :class:`~pinkclinic.load.core.stats.Recorder`: latencies, statuses, bytes and
  errors, cut into a bin once a second and handed to ``on_bin`` (the caller merges them,
  stats.Aggregator).

The engine holds the run's phase (``started``, ``draining``, ``finished``), which the
connections and the pacer read, and ``check_done``, which they call when the run may be
over. A ``-a`` run also carries a deadline (:mod:`pinkclinic.load.core.deadline`) and ends
at once if it stalls (:meth:`Engine.stalled`): both only happen through a bug, and say so.
"""

from __future__ import annotations

import asyncio
import threading
import time
from array import array
from collections.abc import Callable
from time import perf_counter_ns

from pinkclinic.load.core.deadline import CONNECT_WAIT_S, SWEEP_S, amount_deadline_s
from pinkclinic.load.core.spec import IdSource, LoadSpec
from pinkclinic.load.core.stats import DRAIN_MAX_S, Recorder
from pinkclinic.load.http1.connections import Connections
from pinkclinic.load.http1.encode import Requests
from pinkclinic.load.http1.pacing import ClosedLoop, RateSchedule


class Engine:
    def __init__(self, spec: LoadSpec, on_bin: Callable[[dict], None], *,
                 stop: threading.Event | None = None, ids: IdSource | None = None,
                 rate_phase: float = 0.0):
        self.spec = spec
        self.on_bin = on_bin
        self.stop_event = stop
        self.rec = Recorder()
        if getattr(spec, "trace", False):
            self.rec.trace = array("q")
        self.pacer = ClosedLoop(self, spec) if spec.rate is None else \
            RateSchedule(self, spec, rate_phase)
        self.conns = Connections(self, spec, Requests(spec, ids or IdSource()), self.pacer,
                                 self.rec)
        self.started = False
        self.draining = False
        self.finished = False
        self.done_fut: asyncio.Future | None = None
        self.t0_ns = 0  # perf_counter ns of the first measured second
        self.t0_epoch = 0.0
        self.deadline_s = 0.0 if spec.amount is None else \
            amount_deadline_s(spec, spec.connections * spec.pipelining)
        self.left = 0  # requests of an -a run not yet sent when its load window ended
        self.ended_by = ""  # "deadline" or "stall" when an -a run could not finish

    # -- the run ----------------------------------------------------------------------------
    async def connect_all(self) -> None:
        """Open every connection; wait for them up to ``CONNECT_WAIT_S`` (or ``-t``).

        A connect still pending then is not cancelled: it goes on into the run, whose
        sweep counts it as a timeout once it is ``-t`` old, so a server that never
        accepts still gets a run that ends on time, with its timeouts counted.
        """
        await self.conns.resolve()
        first = self.conns.open_all()
        deadline = time.monotonic() + min(self.spec.timeout, CONNECT_WAIT_S)
        while (any(not t.done() for t in first) and time.monotonic() < deadline
               and not self.stopped()):
            await asyncio.sleep(0.005)
        await asyncio.sleep(0)  # the done callbacks of the last connects

    async def run(self, go_ns: int | None = None) -> dict:
        """Run after ``connect_all``; start at ``go_ns`` (perf_counter ns). Returns end info."""
        spec = self.spec
        self.done_fut = asyncio.get_running_loop().create_future()
        if go_ns is not None:
            while perf_counter_ns() < go_ns:
                await asyncio.sleep(max(0.0, min(0.05, (go_ns - perf_counter_ns()) / 1e9)))
        if not self.conns.ever_connected and not self.conns.tasks:  # every connect failed
            self.finished = True
            self.t0_ns, self.t0_epoch = perf_counter_ns(), time.time()
            self.on_bin(self.rec.cut(0, 0.0))
            return self._end(self.t0_ns, interrupted=self.stopped())
        start = perf_counter_ns()
        self.started = True
        # -a counts after the warm-up
        self.pacer.start(start, counting=spec.amount is not None and not spec.warmup)
        self.conns.start()
        if spec.warmup:
            await self._wait_until(start + int(spec.warmup * 1e9), None)
            self.rec.cut(-1, 0.0)  # warm-up is not counted
            start = perf_counter_ns()
            if spec.amount is not None:  # answers still due count towards the amount
                self.pacer.count_from_now(max(0, spec.amount - self.conns.in_flight()))
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
            self.pacer.stop()
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

    async def _wait_until(self, t_ns: int, end_ns: int | None) -> str:
        """Wait for ``t_ns`` ("tick", or "end" past ``end_ns``), the run being done
        ("done"), stopped ("stop") or stalled ("stall"); sweep for timeouts meanwhile."""
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
            self.conns.sweep()
            if self.stalled():
                return "stall"

    def _end(self, now: int, interrupted: bool) -> dict:
        inflight, connecting = self.close()
        return {"inflight": inflight, "interrupted": interrupted, "connecting": connecting,
                "connected": self.conns.ever_connected, "started": self.started, "end_ns": now,
                "ended_by": self.ended_by, "unsent": self.left,
                "deadline_s": self.deadline_s}

    def close(self) -> tuple[int, int]:
        """End everything (idempotent): the requests still in flight, the connects pending."""
        self.finished = True
        return self.conns.close_all()

    # -- asked by the connections and the pacer ---------------------------------------------
    def check_done(self) -> None:
        """End the run (or the drain) once nothing more will be sent and nothing is in flight."""
        if self.finished or not self.started or (self.spec.amount is None and not self.draining):
            return
        if not self.pacer.exhausted() or self.conns.busy():
            return
        if self.done_fut is not None and not self.done_fut.done():
            self.done_fut.set_result(None)

    def stalled(self) -> bool:
        """Can nothing ever happen again in an ``-a`` run that is not done? No request in
        flight, no connect in progress or waiting out a backoff, and no open connection
        that could take the requests left: only a bug of the engine leads here, and the
        run ends at once (``ended_by = "stall"``) instead of waiting for its deadline."""
        if not self.started or self.finished or self.spec.amount is None or not self.pacer.closed:
            return False
        if self.pacer.exhausted():
            return False
        return not self.conns.can_go_on()

    def stopped(self) -> bool:
        return self.stop_event is not None and self.stop_event.is_set()

    def unsent(self) -> int:
        """Requests of an ``-a`` run never sent (0 for a -d run, or one that finished)."""
        if self.spec.amount is None or not self.started:
            return 0
        return self.pacer.unsent()
