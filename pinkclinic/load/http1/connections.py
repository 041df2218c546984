"""The run's connections, one per slot (``-c``): opening, connect failures, replacing the
lost and the retired, and the sweep that times them out.

A failed connect counts as one failed request and is retried with a backoff; a
connection that the server ends after a response (``retired``) or that fails (``lost``)
is replaced at once, its unanswered requests given back to be sent again. Timeouts are
found by a sweep (:meth:`Connections.sweep`, every 100 ms: no timer per request), which
also cancels connects that take too long and closes retired connections once they have
lingered ``LINGER_NS``.

A connection is *dialing* from ``open()`` until it is made (``connected()``): responses
of other connections can come in between, and each must see that this one has already
taken its share of the budget. Connections are sockets of the run's own epoll
(:mod:`pinkclinic.load.http1.sockets`), not asyncio transports: a new connection per
request costs about half as much that way. In the closed loop, the one constant request
goes out with the connect (``open``): a connect to this host that completes within
connect() needs no EPOLLOUT event and no ``dialed``/``connection_made``/``kick``
round trip, ~12% of the Python instructions of a new connection per request.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from time import perf_counter_ns

from pinkclinic.errors import PinkError
from pinkclinic.load.core.deadline import BACKOFF_MAX_S
from pinkclinic.load.core.spec import LoadSpec
from pinkclinic.load.core.stats import FD_LIMIT, TIMEOUT, Recorder
from pinkclinic.load.http1.closing import H1ClosingConn
from pinkclinic.load.http1.conn import H1Conn
from pinkclinic.load.http1.encode import Requests
from pinkclinic.load.http1.head import H1HeadConn
from pinkclinic.load.http1.sockets import OPEN, Poller, Sock

# TCP_NODELAY is set unless every write is one request that fits in one segment, sent with
# nothing else in flight on its connection (-p 1: the answer to the last request acked all
# of it), which Nagle's algorithm never holds back: one setsockopt (~1 µs) less a connect
NAGLE_SAFE_BYTES = 1400
LINGER_NS = 1_000_000_000  # how long a retired connection may stay open to read the rest


class Connections:
    def __init__(self, engine, spec: LoadSpec, requests: Requests, pacer, rec: Recorder):
        self.engine = engine  # for started, finished and check_done()
        self.host, self.port = spec.host, spec.port
        self.timeout_ns = int(spec.timeout * 1e9)
        self.requests = requests
        self.nodelay = not (spec.pipelining == 1 and requests.static is not None
                            and len(requests.static) <= NAGLE_SAFE_BYTES)
        # sent with the connect (open()): the closed loop's one constant request a connection
        self.first = requests.static if spec.pipelining == 1 and pacer.closed else None
        self.pacer = pacer
        self.rec = rec
        self.slots: list[H1Conn | None] = [None] * spec.connections
        self.connecting: dict[Sock, int] = {}  # connect in progress -> its start (ns)
        self.tasks: dict[Sock, H1Conn] = {}  # connect in progress -> its connection
        self.dialing: set[H1Conn] = set()  # connections opened but not yet made
        self.reopening = 0  # opens waiting out a backoff (open(slot, delay))
        self.fails = [0] * spec.connections  # connect failures in a row, per slot
        self.was_connected = [False] * spec.connections  # for counting reconnects exactly
        self.retiring: dict[H1Conn, int] = {}  # retired connections still reading -> since (ns)
        self.precise = False  # set once a server closes a connection: see closing.py
        self.ever_connected = False
        self.addr: tuple | None = None
        self.family = socket.AF_INET
        self.loop: asyncio.AbstractEventLoop | None = None
        self.poller: Poller | None = None

    async def resolve(self) -> None:
        self.loop = asyncio.get_running_loop()
        try:
            infos = await self.loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except OSError as e:
            raise PinkError(f"cannot resolve {self.host}: {e.strerror or e}") from None
        self.family, self.addr = infos[0][0], infos[0][4]
        self.poller = Poller(self.loop)

    # -- opening ----------------------------------------------------------------------------
    def open_all(self) -> list[Sock]:
        """Open a connection for every slot; their connects."""
        for slot in range(len(self.slots)):
            self.open(slot)
        return list(self.tasks)

    def start(self) -> None:
        """The run starts: fill the connections already made, open the missing ones."""
        for conn in list(self.slots):
            if conn is not None and conn.transport is not None:
                self.pacer.kick(conn)
        for slot, conn in enumerate(self.slots):
            if conn is None:
                self.open(slot)

    def open(self, slot: int, delay: float = 0.0) -> None:
        """Open a connection for ``slot`` (after ``delay`` s)."""
        if self.engine.finished:
            return
        if delay:
            self.reopening += 1
            self.loop.call_later(delay, self._open_later, slot)
            return
        cls = H1HeadConn if self.requests.has_head else H1ClosingConn if self.precise else H1Conn
        conn = cls(self, slot)
        self.slots[slot] = conn
        pacer = self.pacer
        if self.first is not None and pacer.budget > 0:  # the closed loop's budget
            # the request goes out with the connect when it completes at once (sockets.py)
            dial = Sock(self.poller, self, conn, self.family, self.addr, self.nodelay,
                        self.first)
            if dial.state == OPEN:
                pacer.budget -= 1
                conn.sent_on_connect(dial)
                self.made(slot)
                return
        else:
            dial = Sock(self.poller, self, conn, self.family, self.addr, self.nodelay)
        self.dialing.add(conn)
        self.tasks[dial] = conn
        self.connecting[dial] = perf_counter_ns()

    def _open_later(self, slot: int) -> None:
        self.reopening -= 1
        if self.slots[slot] is None:  # else the slot was filled meanwhile (``start``)
            self.open(slot)

    def dialed(self, dial: Sock) -> None:
        """A connect succeeded (its connection's ``connection_made`` comes next)."""
        del self.tasks[dial]
        self.connecting.pop(dial, None)

    def dial_failed(self, dial: Sock, e: OSError | None) -> None:
        """A connect failed with ``e``, or was cancelled (``e`` None)."""
        conn = self.tasks.pop(dial, None)
        self.connecting.pop(dial, None)
        if conn is None:
            return
        self.dialing.discard(conn)
        slot = conn.slot
        if e is None:  # a connect timeout (sweep), or the end of the run
            if not self.engine.finished:
                self.connect_failed(slot, TIMEOUT)
            return
        if isinstance(e, ConnectionRefusedError):
            self.connect_failed(slot, "refused")
        elif isinstance(e, OSError) and e.errno in (errno.EMFILE, errno.ENFILE):
            self.connect_failed(slot, FD_LIMIT)  # no socket to connect with: see result.notes
        else:
            self.connect_failed(slot, "connect")

    def connect_failed(self, slot: int, kind: str) -> None:
        """A connect failed: it counts as one failed request (so ``-a`` runs still end)."""
        self.slots[slot] = None
        self.rec.error(kind)
        if not self.engine.started:
            return
        self.pacer.failed_connect()
        self.fails[slot] += 1
        if self.wanted():
            self.open(slot, min(BACKOFF_MAX_S, 0.001 * 2 ** min(self.fails[slot], 10)))
        self.engine.check_done()

    def wanted(self) -> bool:
        """Is there work for one more connection?"""
        return not self.engine.finished and self.pacer.wants(len(self.dialing))

    # -- called by the connections ----------------------------------------------------------
    def connected(self, conn: H1Conn) -> None:
        self.dialing.discard(conn)  # made: see the module's docstring
        self.made(conn.slot)
        if self.engine.started:
            self.pacer.kick(conn)

    def made(self, slot: int) -> None:
        """A connection of ``slot`` is made."""
        self.ever_connected = True
        self.fails[slot] = 0
        if self.was_connected[slot]:  # a reconnect is a new connection, counted when it is made
            self.rec.reconnects += 1
        self.was_connected[slot] = True

    def retired(self, conn: H1Conn, unanswered: int, linger: bool = True) -> None:
        """The server ended ``conn`` after a response: replace it at once.

        ``linger``: ``conn`` stays open to read what is left, closed by the sweep at the latest.
        """
        pacer, slot = self.pacer, conn.slot
        if unanswered:
            pacer.give_back(unanswered)
            self.requests.rewind(slot, unanswered)
        if linger:
            self.retiring[conn] = perf_counter_ns()
        if not pacer.closed:  # the closed loop keeps nothing of a connection
            pacer.forget(conn)
        self.slots[slot] = None
        # wanted(), inlined: with a new connection per request, this runs for every one
        if not self.engine.finished and pacer.wants(len(self.dialing)):
            self.open(slot)
        else:
            self.engine.check_done()

    def lost(self, conn: H1Conn, kind: str | None, unanswered: int) -> None:
        """``conn`` failed or was closed: count its unanswered requests as ``kind``, replace it."""
        self.retiring.pop(conn, None)
        started = self.engine.started
        if kind is not None and started:
            self.rec.error(kind, max(1, unanswered))
        if self.slots[conn.slot] is not conn:
            return
        self.slots[conn.slot] = None
        self.pacer.forget(conn)
        if started and not self.wanted():
            self.engine.check_done()
            return
        self.open(conn.slot, 0.0 if started else 0.01)
        self.engine.check_done()

    # -- the state of all ---------------------------------------------------------------------
    def busy(self) -> bool:
        """Is any request in flight?"""
        return any(c is not None and c.pending for c in self.slots)

    def in_flight(self) -> int:
        return sum(len(c.pending) for c in self.slots if c is not None)

    def can_go_on(self) -> bool:
        """Can any connection still send: one dialing, waiting out a backoff, connecting,
        or open and not closing?"""
        if self.dialing or self.reopening or self.tasks:
            return True
        return any(c is not None and not c.dead and not c.closing for c in self.slots)

    def sweep(self) -> None:
        """Time out requests and connects older than ``-t``; close retired connections that
        have lingered ``LINGER_NS``."""
        now = perf_counter_ns()
        limit = self.timeout_ns
        for conn in self.slots:
            if conn is not None and conn.pending and not conn.dead and now - conn.busy_since() > limit:
                conn.drop(TIMEOUT)
        for dial, t in list(self.connecting.items()):
            if now - t > limit:
                del self.connecting[dial]  # counted as a timeout by dial_failed
                dial.cancel()
        for conn, t in list(self.retiring.items()):
            if now - t > LINGER_NS:
                del self.retiring[conn]
                if not conn.dead:
                    conn.dead = True
                    conn.transport.close()

    def close_all(self) -> tuple[int, int]:
        """The end: abort every connection, cancel every connect. Returns the requests in
        flight and the connects still pending (neither done nor timed out) until then."""
        inflight = self.in_flight()
        connecting = sum(1 for t in self.connecting if not t.done())
        for conn in self.slots:
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
        if self.poller is not None:
            self.poller.close()
        return inflight, connecting
