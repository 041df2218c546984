"""The connections' sockets, without asyncio transports: one epoll of the run's own,
which the event loop watches as a single reader.

Through ``loop.create_connection`` a new connection cost a Task and a coroutine, a
uvloop transport (tracked in a ``WeakValueDictionary``), getpeername, getsockname and
getsockopt: ~50 µs of Python per connection, more than the kernel's own work. Here a
connection is socket(), connect(), one edge-triggered epoll_ctl for reading and
writing at once (closing the socket removes it), then send and recv, as in wrk.

:class:`Sock` is both the protocol's transport (``write``, ``close``, ``abort``) and
the handle of its connect (``done``, ``cancel``). The protocol gets asyncio's
callbacks with asyncio's guarantees: ``connection_made`` once connected, then
``data_received`` and ``eof_received``, and ``connection_lost`` exactly once after
``connection_made``, never from inside ``close()``, ``abort()`` or ``write()``; unless
the protocol ends the connection with ``release()`` (which means: tell me nothing more).
The owner (``Connections``) is told of each connect: ``dialed(sock)`` just before
``connection_made``, or ``dial_failed(sock, exc)`` (``exc`` None: cancelled), never
from inside the call that opened or cancelled it.

The one exception: a ``Sock`` given its ``first`` bytes sends them right after connect().
A connect to this host usually completes within connect() (loopback: the handshake runs
in the kernel before connect() returns), so the request goes out without waiting for
EPOLLOUT, and the ``Sock`` is ``OPEN`` when constructed: the owner, which sees that, is
told nothing, and EPOLLOUT is watched only once a write leaves something to send. A
connect still in progress refuses the send (EAGAIN): the usual path; a failed one raises
its error (ECONNREFUSED...): the connect's failure.
"""

from __future__ import annotations

import errno
import os
import select
import socket
from _socket import socket as raw_socket  # socket.socket's base: no __init__, close() in Python
from errno import EINPROGRESS
from time import perf_counter_ns

EPOLLIN, EPOLLOUT = select.EPOLLIN, select.EPOLLOUT
EPOLLFAIL = select.EPOLLERR | select.EPOLLHUP
EPOLLRDHUP = select.EPOLLRDHUP  # the peer's FIN has come: read on to the end
WATCH = EPOLLIN | EPOLLOUT | EPOLLRDHUP | select.EPOLLET
WATCH_READ = EPOLLIN | EPOLLRDHUP | select.EPOLLET  # nothing left to write
READ_EVENTS = EPOLLIN | EPOLLFAIL | EPOLLRDHUP
TO_END = EPOLLFAIL | EPOLLRDHUP
RECV_SIZE = 65536  # under malloc's mmap threshold: a bigger recv() buffer cost an mmap, an mremap and a munmap per read
CONNECTING, OPEN, CLOSED = 0, 1, 2
_STREAM = socket.SOCK_STREAM | socket.SOCK_NONBLOCK


class Poller:
    """The run's epoll; its file descriptor is a reader of the event loop."""

    def __init__(self, loop):
        self.loop = loop
        self.ep = select.epoll()
        self.socks: dict[int, Sock] = {}  # fd -> its socket
        self.later: list = []  # (callback, arg) deferred while events are handled
        self.busy = False
        loop.add_reader(self.ep.fileno(), self.ready)

    def ready(self) -> None:
        socks = self.socks
        self.busy = True
        try:
            # every ready event at once: fetching at most 32 (a buffer from Python's
            # small-object allocator, ~200 instructions less per call) made a new connection
            # per request dearer (7 of 8 alternated 5 s runs, ~13% more CPU per request)
            for fd, ev in self.ep.poll(0):
                s = socks.get(fd)
                if s is not None:
                    try:
                        s.event(ev)
                    except Exception as e:  # a bug in a callback: end that connection only
                        s.fatal(e)
        finally:
            self.busy = False
            if self.later:  # (a call less on most wake-ups)
                self.run_later()

    def soon(self, fn, arg) -> None:
        """Call ``fn(arg)`` after the current event (batch), or on the loop's next turn."""
        if self.busy:
            self.later.append((fn, arg))
        else:
            self.loop.call_soon(fn, arg)

    def run_later(self) -> None:
        while self.later:
            todo, self.later = self.later, []
            for fn, arg in todo:
                try:
                    fn(arg)
                except Exception as e:  # as one handle of the loop's: the others still run
                    self.loop.call_exception_handler(
                        {"message": f"Exception in callback {fn!r}", "exception": e})

    def close(self) -> None:
        """The end: close every socket still open (idempotent)."""
        if self.ep.closed:
            return
        for s in list(self.socks.values()):
            s.abort()
        self.loop.remove_reader(self.ep.fileno())
        self.ep.close()


class Sock:
    """One non-blocking TCP connection: a connect, then a transport for ``proto``."""

    __slots__ = ("after_flush", "fd", "out", "owner", "poller", "proto", "sent_ns", "sock",
                 "state", "wbuf")

    def __init__(self, poller: Poller, owner, proto, family: int, addr: tuple,
                 nodelay: bool = True, first: bytes | None = None):
        self.poller = poller
        self.owner = owner
        self.proto = proto
        self.state = CONNECTING
        self.wbuf: bytearray | None = None  # what send() could not take yet
        self.after_flush = False  # close() was called with wbuf not empty
        self.out = True  # EPOLLOUT is watched (see write())
        self.sent_ns = 0  # when ``first`` went out with the connect (state OPEN at once)
        self.fd = -1
        try:
            sock = raw_socket(family, _STREAM)
        except OSError as e:  # EMFILE and the like
            self.sock = None
            self.state = CLOSED
            poller.soon(self._failed, e)
            return
        self.sock = sock
        try:
            if nodelay:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            err = sock.connect_ex(addr)
            if err and err != EINPROGRESS:
                raise OSError(err, os.strerror(err))  # OSError picks the subclass by errno
            self.fd = fd = sock.fileno()
            if first is not None:  # see the module's docstring
                self.sent_ns = perf_counter_ns()
                try:
                    n = sock.send(first)
                except (BlockingIOError, InterruptedError):  # still connecting
                    poller.ep.register(fd, WATCH)
                else:  # made: no event, no dialed() and connection_made()
                    self.state = OPEN
                    if n == len(first):
                        self.out = False
                        poller.ep.register(fd, WATCH_READ)
                    else:
                        self.wbuf = bytearray(memoryview(first)[n:])
                        poller.ep.register(fd, WATCH)
            else:
                poller.ep.register(fd, WATCH)
        except OSError as e:
            sock.close()
            self.state = CLOSED
            poller.soon(self._failed, e)
            return
        poller.socks[fd] = self

    # -- the connect's handle ----------------------------------------------------------------
    def done(self) -> bool:
        return self.state != CONNECTING

    def cancel(self) -> None:
        """Give up a connect in progress (the owner hears of it, soon, as cancelled)."""
        if self.state == CONNECTING:
            self._close()
            self.poller.soon(self._failed, None)

    def _failed(self, exc: OSError | None) -> None:
        self.owner.dial_failed(self, exc)

    # -- events --------------------------------------------------------------------------------
    def event(self, ev: int) -> None:
        if self.state != OPEN:  # connecting (closed ones are no longer in the poller)
            if ev & EPOLLFAIL:
                err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    self._close()
                    self.owner.dial_failed(self, OSError(err, os.strerror(err)))
                    return
            if not ev & (EPOLLOUT | EPOLLFAIL):
                return  # nothing yet (an event meant for an earlier socket on this fd)
            self.state = OPEN
            self.owner.dialed(self)
            self.proto.connection_made(self)
        if self.wbuf and ev & EPOLLOUT:
            self._flush()
        if not ev & READ_EVENTS or self.state != OPEN:
            return
        # read what has come (inlined: one Python call less per response); with the peer's
        # FIN among the events (``to_end``), read until EOF
        to_end = ev & TO_END
        sock, proto = self.sock, self.proto  # methods called through them: no bound methods made
        while True:
            try:
                data = sock.recv(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                self._end(e)
                return
            if not data:
                self.proto.eof_received()  # a half-open connection is not kept: it ends here
                self._end(None)
                return
            proto.data_received(data)
            # a short read emptied the socket: more data is a new edge of the epoll; but
            # a FIN that came with the data is no new edge, so with one, read on to EOF
            if self.state != OPEN or (len(data) < RECV_SIZE and not to_end):
                return

    def fatal(self, exc: BaseException) -> None:
        """A callback of the protocol raised: report it, end the connection with it."""
        self.poller.loop.call_exception_handler(
            {"message": "Fatal error in a load connection's callback", "exception": exc,
             "protocol": self.proto})
        if self.state == CONNECTING:
            self._close()
            self.owner.dial_failed(self, OSError(errno.EIO, str(exc)))
        else:
            self._end(exc)

    # -- the transport ----------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if self.state != OPEN or self.after_flush:
            return  # as asyncio's transports: writes after close() go nowhere
        if self.wbuf:
            self.wbuf += data
            return
        try:
            n = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError as e:
            self._end(e)
            return
        if n != len(data):
            self.wbuf = bytearray(memoryview(data)[n:])  # sent on EPOLLOUT's next edge
            if not self.out:  # made by its first send: EPOLLOUT was not watched
                self.out = True
                self.poller.ep.modify(self.fd, WATCH)

    def _flush(self) -> None:
        try:
            n = self.sock.send(self.wbuf)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self._end(e)
            return
        del self.wbuf[:n]
        if not self.wbuf and self.after_flush:
            self._end(None)

    def close(self) -> None:
        """Close once what was written is sent; ``connection_lost(None)`` follows."""
        if self.state == OPEN:
            if self.wbuf:
                self.after_flush = True
            else:  # _end(None), inlined: a connection per request closes here
                self._close()
                self.poller.soon(self.proto.connection_lost, None)
        elif self.state == CONNECTING:
            self.cancel()

    def release(self) -> None:
        """Close for a protocol that has ended itself: as ``close()``, but without
        ``connection_lost`` when nothing is left to send (else it follows the last send)."""
        if self.state == OPEN and not self.wbuf:  # _close(), inlined (a connection per request)
            self.state = CLOSED
            del self.poller.socks[self.fd]  # open: the fd is still this socket's
            self.sock.close()
        else:
            self.close()

    def abort(self) -> None:
        if self.state == CONNECTING:
            self.cancel()
        else:
            self._end(None)

    def _end(self, exc: BaseException | None) -> None:
        if self.state != OPEN:
            return
        self._close()
        self.poller.soon(self.proto.connection_lost, exc)

    def _close(self) -> None:
        self.state = CLOSED
        self.wbuf = None
        socks = self.poller.socks
        if socks.get(self.fd) is self:
            del socks[self.fd]
        self.sock.close()  # also takes the fd out of the epoll
