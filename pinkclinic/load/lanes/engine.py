"""A load engine for protocols driven one awaited exchange at a time per *lane*: a
WebSocket connection (send a message, await its reply) or an HTTP/2 stream slot.

It shares the HTTP/1.1 engine's rules and its statistics (a ``Recorder`` cut into
one bin a second): closed loop or ``rate`` (one even schedule for all lanes; a
request that had to wait in the backlog is timed from its due time, wrk2's
correction, one sent as soon as it was due from its real send), ``amount`` in total
or ``per_lane``, ``warmup`` not counted (nor taken from the amount: the exchanges in
flight when it ends count, as in HTTP/1.1), a ``timeout`` per exchange, ``stop`` within
50 ms, and in-flight exchanges drained for up to 2 s at the end (their answers count;
the drain's time is not in the measured duration).

A lane implements ``connected``, ``async connect()``, ``async exchange() ->
(status, nbytes, timed)`` and ``async drop(final=False)`` (``final``: the run is over,
close politely); failures raise :class:`LaneError`. A lane whose ``listens`` is true
only waits for what the server sends on its own (WebSocket push): in a run bounded by
its duration a silence is no timeout, and its pending wait is nothing in flight, so
the end of the run does not wait for it.

A counted run (``amount``, or ``per_lane``) carries the deadline of every engine
(:mod:`pinkclinic.load.core.deadline`), and ends at once if every lane has stopped with
work left: both only happen through a bug, and the result says so (``ended_by``,
``unsent``), as the HTTP/1.1 engine's does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from time import perf_counter_ns

from pinkclinic.load.core.deadline import BACKOFF_MAX_S, amount_deadline_s
from pinkclinic.load.core.stats import DRAIN_MAX_S, TIMEOUT, Recorder

POLL_S = 0.05
FOREVER = 1 << 62
RETRY = "retry"  # a LaneError kind: not sent after all (e.g. a graceful GOAWAY); do it again


class LaneError(Exception):
    def __init__(self, kind: str, detail: str = ""):
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


class LaneEngine:
    def __init__(self, spec, on_bin: Callable[[dict], None], stop=None, per_lane: int | None = None):
        self.spec = spec
        self.on_bin = on_bin
        self.stop_event = stop
        self.per_lane = per_lane
        self.rec = Recorder()
        self.state = "connecting"
        self.budget = None if spec.rate else spec.amount
        self.queue: asyncio.Queue | None = None
        self.inflight = 0
        self.t0_ns = 0
        self.t0_epoch = 0.0
        self.taken = 0  # units of a counted run taken (sent, or used up by a failed connect)
        self.counting = not spec.warmup  # units are taken from the amount (after the warm-up)
        self.sched_k = 0  # rate: units the schedule has put out
        self.limit_k = FOREVER  # ... and the number it stops at
        self.deadline_s = 0.0
        self.ended_by = ""  # "deadline" or "stall" when a counted run could not finish

    def stopped(self) -> bool:
        return self.stop_event is not None and self.stop_event.is_set()

    # -- one lane ---------------------------------------------------------------------------
    async def _connect(self, lane) -> bool:
        try:
            await asyncio.wait_for(lane.connect(), self.spec.timeout)
            return True
        except asyncio.TimeoutError:
            self.rec.error(TIMEOUT)
        except LaneError as e:
            self.rec.error(e.kind)
        await lane.drop()
        return False

    def _take(self, left: list[int]) -> bool:
        """Take one unit of work (amount / per-lane budget); False when none is left.
        Nothing is taken during the warm-up."""
        if not self.counting:
            return True
        if left[0] == 0 or (self.budget is not None and self.budget <= 0):
            return False
        if left[0] > 0:
            left[0] -= 1
        if self.budget is not None:
            self.budget -= 1
        self.taken += 1
        return True

    def _give_back(self, left: list[int], due: int | None, counted: bool) -> None:
        """Put back a unit not sent after all; ``counted``: it was taken from the amount
        (in flight when the warm-up ended counts)."""
        if self.queue is not None:  # a rate: back on the schedule, timed from its due time
            self.queue.put_nowait(due)
            self.taken -= counted
        elif counted:
            self.taken -= 1
            if left[0] >= 0:
                left[0] += 1
            if self.budget is not None:
                self.budget += 1

    async def _lane(self, lane) -> None:
        left = [self.per_lane if self.per_lane is not None else -1]
        fails = 0
        rec, timeout = self.rec, self.spec.timeout
        listens = getattr(lane, "listens", False) and self.spec.amount is None and self.per_lane is None
        if listens:
            timeout = None
        while self.state == "running":
            if not lane.connected:
                if await self._connect(lane):
                    fails = 0
                    continue
                fails += 1  # a failed connect uses up one unit, so counted runs still end
                if self.spec.amount is not None or self.per_lane is not None:
                    if self.queue is not None and not self.queue.empty():
                        if self.queue.get_nowait() is None:  # its end marker
                            return
                        self.taken += self.counting
                    elif self.queue is None and not self._take(left):
                        return
                await asyncio.sleep(min(BACKOFF_MAX_S, 0.002 * 2 ** min(fails, 9)))
                continue
            due = None
            if self.queue is not None:
                if left[0] == 0:
                    return
                backlog = not self.queue.empty()
                due = await self.queue.get()
                if due is None or self.state != "running":
                    return
            counted = self.counting
            if not self._take(left):  # with a rate: no budget, and left checked above
                return
            origin = perf_counter_ns()
            if due is not None and backlog and self.spec.correction:
                origin = due
            self.inflight += not listens
            try:
                status, nbytes, timed = await asyncio.wait_for(lane.exchange(), timeout)
            except asyncio.TimeoutError:
                rec.error(TIMEOUT)
                await lane.drop()
            except LaneError as e:
                if e.kind == RETRY:
                    rec.reconnects += 1
                    self._give_back(left, due, counted or self.counting)
                else:
                    rec.error(e.kind)
                await lane.drop()
            else:
                if timed:
                    rec.lat.append((perf_counter_ns() - origin) // 1000)
                rec.status[status] += 1
                rec.nbytes += nbytes
            finally:
                self.inflight -= not listens
                if not counted and self.counting and left[0] > 0:
                    left[0] -= 1  # sent in the warm-up, answered after: counted (_end_warmup)

    async def _schedule(self, t0: int, lanes: int) -> None:
        interval = 1e9 / self.spec.rate
        if self.spec.amount is not None and self.counting:
            self.limit_k = self.spec.amount
        while self.sched_k < self.limit_k and self.state == "running":
            now = perf_counter_ns()
            while self.sched_k < self.limit_k and t0 + self.sched_k * interval <= now:
                self.queue.put_nowait(int(t0 + self.sched_k * interval))
                self.sched_k += 1
            if self.sched_k < self.limit_k:
                await asyncio.sleep(max(0.0005, (t0 + self.sched_k * interval
                                                 - perf_counter_ns()) / 1e9))
        if self.sched_k >= self.limit_k:  # every unit is out: one end marker for each lane
            for _ in range(lanes):
                self.queue.put_nowait(None)

    # -- the run ----------------------------------------------------------------------------
    def _end_warmup(self) -> None:
        """The amount counts from now. The exchanges in flight are answered in the measured
        window, so they count towards it (HTTP/1.1's rule); so do the units the rate's
        schedule made due and no lane has taken yet."""
        self.counting = True
        if not self.counted():
            return
        self.taken = self.inflight
        amount = self.spec.amount
        if amount is None:  # per lane: each lane counts its own in flight (_lane)
            return
        left = max(0, amount - self.inflight)
        if self.budget is not None:
            self.budget = left
        if self.queue is not None:
            queued = self.queue.qsize()
            for _ in range(max(0, queued - left)):  # more due than the amount has left
                self.queue.get_nowait()
            self.limit_k = self.sched_k + max(0, left - queued)

    def counted(self) -> bool:
        return self.spec.amount is not None or self.per_lane is not None

    def unsent(self, lanes: int) -> int:
        """Units of a counted run never taken (0 for a run bounded by its duration)."""
        if not self.counted():
            return 0
        total = self.spec.amount if self.spec.amount is not None else self.per_lane * lanes
        return max(0, total - self.taken)

    async def run(self, lanes: list) -> dict:
        spec = self.spec
        ok = await asyncio.gather(*(self._connect(lane) for lane in lanes))
        if not any(ok) or self.stopped():
            self.t0_ns, self.t0_epoch = perf_counter_ns(), time.time()
            self.on_bin(self.rec.cut(0, 0.0))
            await asyncio.gather(*(lane.drop() for lane in lanes))
            return {"inflight": 0, "interrupted": self.stopped(), "connected": any(ok),
                    "end_ns": self.t0_ns, "ended_by": "", "unsent": 0, "deadline_s": 0.0}
        self.state = "running"
        start = perf_counter_ns()
        tasks = [asyncio.ensure_future(self._lane(lane)) for lane in lanes]
        if spec.rate:
            self.queue = asyncio.Queue()
            tasks.append(asyncio.ensure_future(self._schedule(start, len(lanes))))
        lane_tasks = tasks[:len(lanes)]
        if spec.warmup:
            await self._wait(start + int(spec.warmup * 1e9), lane_tasks)
            self.rec.cut(-1, 0.0)
            start = perf_counter_ns()
            self._end_warmup()
        self.t0_ns, self.t0_epoch = start, time.time()
        if self.counted():  # a deadline that a run which works as it must never reaches
            self.deadline_s = amount_deadline_s(spec, len(lanes))
            end_ns = start + int((self.deadline_s - spec.warmup) * 1e9)
        else:
            end_ns = start + int(spec.duration * 1e9)
        i = 0
        while True:
            tick = start + (i + 1) * 1_000_000_000
            why = await self._wait(min(tick, end_ns), lane_tasks)
            if why == "tick" and perf_counter_ns() < end_ns:
                self.on_bin(self.rec.cut(i, 1.0))
                i += 1
                continue
            break
        self.state = "ending"
        # the load window ends here; the drain's answers count, its time does not
        now = perf_counter_ns()
        load_end = min(end_ns, now) if why == "tick" else now
        if why != "stop":
            deadline = perf_counter_ns() + int(min(spec.timeout, DRAIN_MAX_S) * 1e9)
            while self.inflight and perf_counter_ns() < deadline and not self.stopped():
                await asyncio.sleep(0.002)
        inflight = self.inflight
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        unsent = self.unsent(len(lanes))  # once no lane can take or give back any more
        if self.counted() and why == "tick":
            self.ended_by = "deadline"
        elif self.counted() and why == "done" and unsent:
            self.ended_by = "stall"  # every lane stopped with work left
        self.on_bin(self.rec.cut(i, max(0, load_end - (start + i * 1_000_000_000)) / 1e9))
        await asyncio.gather(*(lane.drop(final=True) for lane in lanes), return_exceptions=True)
        return {"inflight": inflight, "interrupted": why == "stop", "connected": True,
                "end_ns": load_end, "ended_by": self.ended_by, "unsent": unsent,
                "deadline_s": self.deadline_s}

    async def _wait(self, t_ns: int, lane_tasks: list) -> str:
        while True:
            if self.stopped():
                return "stop"
            if all(t.done() for t in lane_tasks):
                return "done"
            now = perf_counter_ns()
            if now >= t_ns:
                return "tick"
            await asyncio.sleep(min(POLL_S, (t_ns - now) / 1e9))

