"""The engine's connections: opening, connect failures, replacing lost and retired ones.

A mixin of ``engine.Engine`` (whose ``__init__`` sets every attribute used here).
A failed connect counts as one failed request and is retried with a backoff; a
connection that the server ends after a response (``retired``) or that fails
(``lost``) is replaced at once, its unanswered requests given back to be re-sent.
``check_done`` ends the run (or the drain) once nothing is left to send or to read.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from time import perf_counter_ns

from pinkclinic.errors import PinkError
from pinkclinic.load.core.stats import FD_LIMIT, TIMEOUT
from pinkclinic.load.http1.closing import H1ClosingConn
from pinkclinic.load.http1.conn import H1Conn
from pinkclinic.load.http1.head import H1HeadConn


class ConnsMixin:
    async def resolve(self) -> None:
        host, port = self.spec.host, self.spec.port
        try:
            infos = await self.loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as e:
            raise PinkError(f"cannot resolve {host}: {e.strerror or e}") from None
        self.addr = infos[0][4]

    def open(self, slot: int, delay: float = 0.0) -> None:
        """Open a connection for ``slot`` (after ``delay`` s): one task, no coroutine of ours."""
        if self.finished:
            return
        if delay:
            self.reopening += 1
            self.loop.call_later(delay, self._open_later, slot)
            return
        cls = H1HeadConn if self.has_head else H1ClosingConn if self.precise else H1Conn
        conn = cls(self, slot)
        self.conns[slot] = conn
        task = self.loop.create_task(
            self.loop.create_connection(lambda: conn, self.addr[0], self.addr[1]))
        self.tasks[task] = conn
        self.dialing.add(conn)
        self.connecting[task] = perf_counter_ns()
        task.add_done_callback(self._opened)

    def _open_later(self, slot: int) -> None:
        self.reopening -= 1
        self.open(slot)

    def _opened(self, task: asyncio.Task) -> None:
        conn = self.tasks.pop(task, None)
        self.connecting.pop(task, None)
        if conn is None:
            return
        self.dialing.discard(conn)
        slot = conn.slot
        if task.cancelled():  # a connect timeout (sweep), or the end of the run
            if not self.finished:
                self.connect_failed(slot, TIMEOUT)
            return
        e = task.exception()
        if e is None:
            return
        if isinstance(e, ConnectionRefusedError):
            self.connect_failed(slot, "refused")
        elif isinstance(e, OSError) and e.errno in (errno.EMFILE, errno.ENFILE):
            self.connect_failed(slot, FD_LIMIT)  # no socket to connect with: see result.notes
        elif isinstance(e, OSError):
            self.connect_failed(slot, "connect")
        else:
            raise e

    def connect_failed(self, slot: int, kind: str) -> None:
        """A connect failed: it counts as one failed request (so ``-a`` runs still end)."""
        self.conns[slot] = None
        self.rec.error(kind)
        if not self.started:
            return
        if self.closed_loop and self.budget > 0:
            self.budget -= 1
        elif not self.closed_loop and self.sent_k < self.limit_k:
            self.sent_k += 1
        self.fails[slot] += 1
        if self.wants_connection():
            self.open(slot, min(1.0, 0.001 * 2 ** min(self.fails[slot], 10)))
        self.check_done()

    def wants_connection(self) -> bool:
        """Is there work for one more connection? In the closed loop, the connects still in
        progress (``dialing``: not yet made) will each take a pipeline's worth of the budget:
        open no connection that would find nothing left to send (the server would count it)."""
        if self.finished:
            return False
        if self.closed_loop:
            return self.budget > len(self.dialing) * self.pipelining
        return self.sent_k < self.limit_k

    def connected(self, conn: H1Conn) -> None:
        # Made, so no longer dialing, although its task's done callback (``_opened``) runs
        # only later: responses, and retirements, of other connections can come in between,
        # and each must see that this one has already taken its share of the budget.
        self.dialing.discard(conn)
        self.ever_connected = True
        slot = conn.slot
        self.fails[slot] = 0
        if self.was_connected[slot]:  # a reconnect is a new connection, counted when it is made
            self.rec.reconnects += 1
        self.was_connected[slot] = True
        if self.started:
            self.kick(conn)

    def kick(self, conn: H1Conn) -> None:
        """A connection is ready: fill its pipeline (closed loop) or offer its slots (rate)."""
        if self.closed_loop:
            now = perf_counter_ns()
            for _ in range(self.pipelining):
                if self.budget <= 0:
                    break
                self.budget -= 1
                conn.send(now)
            if not conn.pending:
                self.check_done()
        else:
            now = perf_counter_ns()
            for _ in range(self.pipelining):
                self.slot_free(conn, now)

    def retired(self, conn: H1Conn, unanswered: int, linger: bool = True) -> None:
        """The server ended ``conn`` after a response: replace it at once.

        ``linger``: ``conn`` stays open to read what is left, closed by the sweep at the latest.
        """
        self.give_back(unanswered)
        n = len(self.encoders)
        if unanswered and n > 1:  # the steps not answered are sent again, in order
            self.seq_pos[conn.slot] = (self.seq_pos[conn.slot] - unanswered) % n
        if linger:
            self.retiring[conn] = perf_counter_ns()
        if self.idle_slots and conn in self.idle_slots:
            self.idle_slots = [c for c in self.idle_slots if c is not conn]
        self.conns[conn.slot] = None
        if self.wants_connection():
            self.open(conn.slot)
        else:
            self.check_done()

    def lost(self, conn: H1Conn, kind: str | None, unanswered: int) -> None:
        """``conn`` failed or was closed: count its unanswered requests as ``kind``, replace it."""
        self.retiring.pop(conn, None)
        if kind is not None and self.started:
            self.rec.error(kind, max(1, unanswered))
        if self.conns[conn.slot] is not conn:
            return
        self.conns[conn.slot] = None
        if conn in self.idle_slots:
            self.idle_slots = [c for c in self.idle_slots if c is not conn]
        if self.started and not self.wants_connection():
            self.check_done()
            return
        self.open(conn.slot, 0.0 if self.started else 0.01)
        self.check_done()

    def give_back(self, n: int) -> None:
        if n:
            if self.closed_loop:
                self.budget += n
            else:
                self.sent_k -= n  # re-send from the backlog (timed from their due times)
                self.sent_k = max(self.sent_k, 0)

    def idle(self, conn: H1Conn) -> None:
        self.check_done()

    def check_done(self) -> None:
        """End the run (or the drain) once nothing more will be sent and nothing is in flight."""
        if self.finished or not self.started or (self.amount is None and not self.draining):
            return
        if self.closed_loop and self.budget > 0:
            return
        if not self.closed_loop and self.sent_k < self.limit_k:
            return
        if any(c is not None and c.pending for c in self.conns):
            return
        if self.done_fut is not None and not self.done_fut.done():
            self.done_fut.set_result(None)
