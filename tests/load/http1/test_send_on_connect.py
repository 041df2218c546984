"""A new connection's first request goes out with its connect when the connect completes at
once (loopback; sockets.Sock with ``first``), and every outcome of that send keeps its meaning:
a partial send is finished on EPOLLOUT, a refused connect is a ``refused`` error."""

from __future__ import annotations

import asyncio
import socket
import threading

from pinkclinic.load import run_load
from pinkclinic.load.core.loop import run_on_new_loop
from pinkclinic.load.http1.engine import Engine
from pinkclinic.load.http1.sockets import OPEN, Poller, Sock
from pinkclinic.loadargs import parse_bench_args


def test_reconnects_send_with_the_connect(serve):
    s = serve("count", "--close")
    dialed = []

    async def main():
        eng = Engine(parse_bench_args(["-a", "200", "-c", "2", s.url]), lambda b: None)
        conns = eng.conns
        plain = conns.dialed
        conns.dialed = lambda dial: (dialed.append(dial), plain(dial))
        try:
            await eng.connect_all()
            await eng.run()
        finally:
            eng.close()
        return eng

    eng = run_on_new_loop(main())
    assert s.counts()["requests"] == 200
    assert eng.conns.was_connected == [True, True]
    # the 2 first connections are made before the run (nothing to send yet); of the ~198
    # reconnects, hardly any waited for EPOLLOUT (a loopback connect completes in connect())
    assert len(dialed) < 50, len(dialed)


def test_a_request_bigger_than_the_socket_buffer_on_new_connections(serve, tmp_path):
    """The send with the connect takes part of an 8 MB request (a loopback socket takes
    ~4 MB at once): the rest follows on EPOLLOUT, which that socket did not watch until
    then, whole and in order."""
    s = serve("count", "--close", "--record")
    body = "".join(f"{i:07d}\n" for i in range(1_000_000))
    f = tmp_path / "big.txt"
    f.write_text(body)
    r = run_load(parse_bench_args(["-a", "3", "-c", "1", "-t", "10", "-m", "POST", "-i", str(f),
                                   s.url]))
    assert r.requests == 3 and r.error_count == 0 and r.reconnects == 2
    assert s.counts()["bodies"] == [body] * 3


def test_a_refused_reconnect_is_a_refused_error():
    """The server answers 3 requests, one connection each, and stops listening before the
    third answer: every reconnect is refused, each counted as one failed request."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]

    def serve_three():
        for i in range(3):
            c, _ = srv.accept()
            with c:
                c.settimeout(5)
                c.recv(65536)
                if i == 2:
                    srv.close()  # before the answer: the next connect can only be refused
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    t = threading.Thread(target=serve_three, daemon=True)
    t.start()
    try:
        r = run_load(parse_bench_args(["-a", "10", "-c", "1", "-t", "2",
                                       f"http://127.0.0.1:{port}/"]))
    finally:
        t.join(10)
        srv.close()
    assert r.requests == 3
    assert r.errors == {"refused": 7}
    assert r.reconnects == 2


def test_a_later_write_that_does_not_fit_is_finished_on_epollout():
    """A socket made by its first send watches only reading; a later write that the socket
    takes only in part must start watching EPOLLOUT, or its rest would never go out."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    big = b"".join(b"%07d\n" % i for i in range(1_000_000))  # 8 MB: a socket takes ~4 MB
    events = []

    class Proto:
        def connection_lost(self, exc):
            events.append(("lost", exc))

    async def main():
        loop = asyncio.get_running_loop()
        poller = Poller(loop)
        s = Sock(poller, None, Proto(), socket.AF_INET, srv.getsockname(), False, b"first")
        try:
            assert s.state == OPEN and not s.out  # made by its first send
            s.write(big)
            assert s.wbuf, "the socket took 8 MB at once: the test proves nothing"
            c, _ = srv.accept()
            with c:
                c.setblocking(False)
                got = bytearray()
                while len(got) < 5 + len(big):
                    got += await asyncio.wait_for(loop.sock_recv(c, 1 << 20), 10)
            assert got == b"first" + big
            assert not s.wbuf
        finally:
            s.abort()
            await asyncio.sleep(0)
            poller.close()

    try:
        run_on_new_loop(main())
    finally:
        srv.close()
    assert events == [("lost", None)]
