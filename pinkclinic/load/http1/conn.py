"""One HTTP/1.1 client connection: an ``asyncio.Protocol`` with httptools' response parser.

The hot path (a response completes, the next request goes out) touches no
Python object beyond a deque of send times and the pacer's budget: the latency
goes into the recorder's list, the status into another, the request is
pre-encoded bytes written with a single ``transport.write``.

A chunk that repeats, byte for byte, the last one that was exactly one whole keep-alive
response (``same``) is not parsed again: parsing it would end the same way (llhttp is
a state machine, and both parses start between two messages), so its status is
recorded as it was. Servers such as nginx send the same bytes for every request of a
second (the Date header changes once a second): parsing was about 1 µs a response.

Handled here: Content-Length, chunked and read-until-close bodies; 1xx interim
responses; ``Connection: close`` and HTTP/1.0 (the engine reconnects);
pipelining; resets, truncation and garbage (counted, the connection is
replaced by its owner, :class:`~pinkclinic.load.http1.connections.Connections`).
Two subclasses: ``closing.H1ClosingConn`` (once a server has
closed a connection) and ``head.H1HeadConn`` (sequences with HEAD, whose
responses carry no body, which httptools cannot be told, so they are parsed by hand).
"""

from __future__ import annotations

import asyncio
from collections import deque
from time import perf_counter_ns

from httptools import (
    HttpParserCallbackError,
    HttpParserError,
    HttpParserUpgrade,
    HttpResponseParser,
)

MALFORMED, RESET, CLOSED = "malformed", "reset", "closed"
NO_STEPS: deque[int] = deque(maxlen=0)  # the steps of every untraced connection: keeps nothing


class H1Conn(asyncio.Protocol):
    """The fast path: httptools calls back only when a response is complete."""

    __slots__ = ("closed_loop", "closing", "completed", "conns", "dead", "got", "head_chunk",
                 "last", "lat", "on_message_begin", "pacer", "parser", "pending", "positions",
                 "rec", "req", "rest", "same", "same_status", "seq", "slot", "status", "steps",
                 "trace", "transport", "wait_since")

    def __init__(self, conns, slot: int):
        self.conns = conns  # the owner: told when this connection is made, retired or lost
        self.pacer = pacer = conns.pacer  # when the next request may go out
        self.rec = rec = conns.rec
        self.lat = rec.lat  # the recorder cuts these in place, so the references stay valid
        self.status = rec.status
        self.trace = rec.trace  # None, or the per-request trace (doctor's per-route table)
        # traced only: the sequence step of each request in flight
        self.steps: deque[int] = NO_STEPS if self.trace is None else deque()
        self.closed_loop = pacer.closed
        self.slot = slot
        # ``rest`` is not empty while the parser is between two messages: llhttp calls
        # on_message_begin (a C call, list.clear) at a message's first byte, and
        # on_message_complete appends the status
        self.rest: list[int] = [0]
        self.on_message_begin = self.rest.clear
        self.completed = 0  # messages llhttp completed (1xx included)
        self.same: bytes | None = None  # the last chunk, when it was one keep-alive response
        self.same_status = 0
        self.parser = HttpResponseParser(self)
        self.pending: deque[int] = deque()  # latency origins (ns) of the requests in flight
        self.transport = None
        self.wait_since = 0
        self.got = False  # bytes of a response not yet complete have arrived
        self.last = b""  # the chunk being parsed
        self.dead = False
        self.closing = False
        self.head_chunk = None  # H1ClosingConn's (set here: a connection per request saves a call)
        requests = conns.requests
        self.seq = requests.encoders
        self.positions = requests.positions
        self.req = requests.static  # bytes, or None when requests vary

    # -- sending ------------------------------------------------------------------------
    def next_encoder(self):
        """The slot's next step of the sequence: each slot starts at step 1 and goes on
        across reconnects (the position is kept per slot, as autocannon's client does)."""
        pos = self.positions
        i = pos[self.slot]
        pos[self.slot] = (i + 1) % len(self.seq)
        if self.trace is not None:
            self.steps.append(i)
        return self.seq[i]

    def next_request(self) -> bytes:
        return self.next_encoder()()

    def send(self, origin: int, now: int = 0) -> None:
        """Write one request; ``origin`` is when its latency starts (ns), ``now`` the
        clock if the caller has just read it."""
        if not self.pending:
            self.wait_since = now or perf_counter_ns()
        self.transport.write(self.req or self.next_request())
        self.pending.append(origin)

    def sent_on_connect(self, transport) -> None:
        """Made, with its first request sent by the connect (``Connections.open``)."""
        self.transport = transport
        self.wait_since = t = transport.sent_ns
        self.pending.append(t)

    def busy_since(self) -> int:
        """Since when the oldest request in flight has waited (for timeouts)."""
        return max(self.wait_since, self.pending[0]) if self.pending else 0

    # -- asyncio callbacks ----------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        self.conns.connected(self)

    def data_received(self, data: bytes) -> None:
        self.rec.nbytes += len(data)
        self.last = data
        if data == self.same:  # parsed before, from between two messages: it ends the same
            self.answered(self.same_status, True)
            return
        self.same = None
        self.got = True
        rest = self.rest
        resting, n = bool(rest), self.completed
        try:
            self.parser.feed_data(data)
        except HttpParserUpgrade:  # a 101 (counted as a status): the rest is not HTTP/1.1
            self.upgraded()
            return
        except HttpParserCallbackError as e:
            raise (e.__context__ or e) from None
        except HttpParserError:
            self.drop(MALFORMED)
            return
        # one whole response, kept alive, from between two messages to between two messages
        if resting and rest and self.completed == n + 1 and rest[-1] >= 200 \
                and not self.closing and not self.dead:
            self.same = data
            self.same_status = rest[-1]

    def eof_received(self):
        return None  # let the transport close; connection_lost decides what it meant

    def connection_lost(self, exc) -> None:
        if not self.dead:
            if self.pending and exc is None and self.got and self.eof_delimited():
                self.eof_complete()  # a body ended by the server's close
            if self.pending:
                self.drop(RESET if exc is not None or self.got else CLOSED)
            else:
                self.drop(None)
        # The transport's last call: break the cycles (parser <-> this connection's bound
        # callbacks, transport <-> protocol) so that refcounting frees the connection now.
        # Left to the garbage collector, a new connection per request cost ~15% more CPU.
        self.parser = self.transport = None

    def eof_complete(self) -> None:
        self.complete(self.parser.get_status_code())

    def eof_delimited(self) -> bool:
        """Was the response in progress one whose body ends when the server closes?

        This class has no headers callback (it costs time on every response), so it
        judges from the last chunk; the first close also switches the engine to
        H1ClosingConn, which records it exactly, for every later connection.
        """
        if self.parser.should_keep_alive():
            return False
        return no_length(self.last)

    # -- httptools: the hot path ----------------------------------------------------------
    def on_message_complete(self) -> None:
        parser = self.parser
        status = parser.get_status_code()
        self.rest.append(status)
        self.completed += 1
        if status < 200 and status != 101:
            return  # an interim 1xx response: the real one follows
        # 101: the rest is not HTTP/1.1
        self.answered(status, status != 101 and parser.should_keep_alive())

    def answered(self, status: int, keep_alive: bool) -> None:
        """A response has completed: record it; send the next request, or retire."""
        now = perf_counter_ns()
        try:
            origin = self.pending.popleft()
        except IndexError:  # a response nobody asked for
            self.drop(MALFORMED)
            return
        self.lat.append((now - origin) // 1000)
        self.status[status] += 1
        if self.trace is not None:
            self.trace.extend((self.steps.popleft() if self.steps else 0, origin // 1000,
                               now // 1000, status))
        self.got = False
        if not keep_alive:
            self.retire()
        elif self.closed_loop:
            pacer = self.pacer
            if pacer.budget > 0:
                pacer.budget -= 1
                self.transport.write(self.req or self.next_request())
                self.pending.append(now)
            elif not self.pending:
                pacer.idle(self)
        else:
            self.pacer.slot_free(self, now)

    def complete(self, status: int, keep_alive: bool = False) -> None:
        """The slow path of a completed response (close-delimited bodies, hand parsing)."""
        now = perf_counter_ns()
        try:
            origin = self.pending.popleft()
        except IndexError:
            self.drop(MALFORMED)
            return
        self.lat.append((now - origin) // 1000)
        self.status[status] += 1
        if self.trace is not None:
            self.trace.extend((self.steps.popleft() if self.steps else 0, origin // 1000,
                               now // 1000, status))
        self.got = False
        if not keep_alive:
            self.retire()
            return
        self.wait_since = now
        pacer = self.pacer
        if self.closed_loop:
            if pacer.budget > 0:
                pacer.budget -= 1
                self.send(now)
            elif not self.pending:
                pacer.idle(self)
        else:
            pacer.slot_free(self, now)

    # -- endings -----------------------------------------------------------------------
    def retire(self) -> None:
        """The server said this connection ends: unanswered requests go back, reconnect."""
        self.closing = True
        self.conns.precise = True  # from now on, connections note where bodies end
        close_now = self.got is False and self.transport is not None
        self.conns.retired(self, len(self.pending), not close_now)  # linger: see there
        self.pending.clear()
        self.steps.clear()  # rewound: sent again, and traced again, on the next connection
        if close_now:  # the server's FIN is in flight: do not wait for it
            self.dead = True
            transport = self.transport
            # ended here, so connection_lost has nothing left to do: break the cycles it
            # would break (see there) at once, and spare its deferred call. The parser,
            # if it is running, holds itself until it returns; it parses nothing after a
            # response that ends the connection (llhttp: "closed connection").
            self.parser = self.transport = None
            transport.release()

    def upgraded(self) -> None:
        """After a 101 the connection speaks another protocol: retire it like a
        ``Connection: close``; requests sent after the 101 go back to be sent again."""
        if self.dead or self.closing:
            return
        self.got = False
        self.retire()

    def drop(self, kind: str | None) -> None:
        """The connection failed (or closed): count its unanswered requests as ``kind``."""
        if self.dead:
            return
        self.dead = True
        if self.closing:
            self.pending.clear()
        n = len(self.pending)
        if self.trace is not None:
            self.trace_failed(kind)
        self.pending.clear()
        if self.transport is not None:
            if kind is None:
                self.transport.close()
            else:
                self.transport.abort()
        if self.closing:
            self.conns.retiring.pop(self, None)
        else:
            self.conns.lost(self, kind, n)


    def trace_failed(self, kind: str | None) -> None:
        """Requests lost with this connection: traced as failed (status 0) when they count
        as errors (``kind``), and only once the run has started (as the errors are)."""
        steps = self.steps
        if kind is not None and self.conns.engine.started:
            now = perf_counter_ns() // 1000
            for origin in self.pending:
                self.trace.extend((steps.popleft() if steps else 0, origin // 1000, now, 0))
        steps.clear()


def no_length(chunk: bytes) -> bool:
    """Does the header block in ``chunk`` (if any) have neither Content-Length nor chunked?"""
    end = chunk.find(b"\r\n\r\n")
    head = chunk[:end].lower() if end >= 0 else b""
    return b"\ncontent-length:" not in head and b"\ntransfer-encoding:" not in head
