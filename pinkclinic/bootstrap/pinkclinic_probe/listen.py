"""Feature ``listen``: the sockets this process listens on.

Two sources, each ``listen`` record saying which (``via``):
- ``"listen"``: ``socket.socket.listen`` is wrapped, so a listener made through Python
  (asyncio, http.server, gunicorn, uvicorn's own sockets) is recorded the moment it
  listens.
- ``"scan"``: uvloop binds a Python socket but calls ``listen()`` inside libuv, and a
  forked worker inherits its master's listener without listening itself. These are
  found by matching ``/proc/self/fd`` socket inodes against the LISTEN entries of
  ``/proc/self/net/tcp{,6}`` (Linux only; the table is read only when a socket fd
  appeared since the last scan). A scan runs 0.1 s after a stream socket is bound
  (``socket.socket.bind`` is wrapped for that), after a fork, and on a backing-off
  schedule (0.25 s ... 30 s).
Each (family, host, port) is recorded once per process.
"""
import socket

from . import _procnet

_SCHEDULE = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0)


class _Listen:
    def __init__(self, probe):
        self.probe = probe
        self.reset()

    def reset(self):
        self.seen = set()
        self.step = 0
        self.scanner = _procnet.Scanner()

    def record(self, family, host, port, fd, via, path=None):
        key = (family, host, port, path)
        if key in self.seen:
            return
        self.seen.add(key)
        rec = {"type": "listen", "family": family, "host": host, "port": port, "fd": fd,
               "via": via}
        if path is not None:
            rec["path"] = path
        self.probe.write(rec)

    def from_socket(self, sock):
        fam = sock.family
        if fam in (socket.AF_INET, socket.AF_INET6):
            addr = sock.getsockname()
            self.record("inet" if fam == socket.AF_INET else "inet6", addr[0], addr[1],
                        sock.fileno(), "listen")
        elif fam == getattr(socket, "AF_UNIX", None):
            name = sock.getsockname()
            self.record("unix", None, None, sock.fileno(), "listen",
                        path=name if isinstance(name, str) else repr(name))

    def scan(self):
        """A sampler job: scan, then say when to scan next (backing off)."""
        for family, host, port, fd in self.scanner.scan():
            self.record(family, host, port, fd, "scan")
        self.step += 1
        return _SCHEDULE[min(self.step, len(_SCHEDULE) - 1)]


def install(probe):
    state = _Listen(probe)
    original_listen = socket.socket.listen
    original_bind = socket.socket.bind

    def listen(self, *args):
        original_listen(self, *args)
        try:
            state.from_socket(self)
        except Exception:
            pass

    def bind(self, address):
        original_bind(self, address)
        try:
            if self.type == socket.SOCK_STREAM:
                probe.reschedule("listen", 0.1)
        except Exception:
            pass

    for fn, original in ((listen, original_listen), (bind, original_bind)):
        fn.__wrapped__ = original
        fn.__doc__ = original.__doc__
    socket.socket.listen = listen
    socket.socket.bind = bind
    probe.every(_SCHEDULE[0], state.scan, "listen")
    probe.on_fork(lambda: (state.reset(), probe.reschedule("listen", 0.0)))
    return {}
