"""Purpose-built HTTP servers for the load-generator tests (stock asyncio, no uvloop).

    python tests/load/servers.py MODE PORT [--option ...]

Modes:
  count    answer every request; count what arrives. ``GET /__count`` returns the
           counts as JSON (and is not counted itself). Options change the answers:
           --close (Connection: close), --http10 (HTTP/1.0, body ended by close),
           --chunked, --body-size N, --status-every N:CODE, --continue (a 100
           Continue first), --pause-after S (block the loop for --pause-for seconds
           once, S seconds after the first request), --delay S (answer each
           request S seconds later, without blocking the loop), --stall-path P
           (never answer a request for path P), --batch N (hold answers until N are
           ready, then write them at once), --nested (every other answer is a 201 whose
           body is the 200 answer, its head written 20 ms before the body).
  stall    accept and read, never answer.
  noaccept listen with a backlog of 0 and never accept a connection.
  upgrade  answer every request with ``101 Switching Protocols`` (then nothing);
           ``GET /__count`` works as in ``count``.
  reset    send half a response, then reset the connection (RST).
  garbage  answer with bytes that are not HTTP.
  drop     close every connection as soon as it is accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import struct
import time

import httptools


class Counts:
    def __init__(self):
        self.requests = 0
        self.methods: dict[str, int] = {}
        self.paths: list[str] = []
        self.bodies: list[str] = []
        self.headers: list[str] = []
        self.hosts: list[str] = []
        self.auths: list[str] = []
        self.connections = 0
        self.first = None


def make_response(opts, n: int, method: str) -> tuple[bytes, bool]:
    """(bytes, close after) for the n-th counted request."""
    status = 200
    if opts.status_every:
        every, code = opts.status_every.split(":")
        if n % int(every) == 0:
            status = int(code)
    body = b"x" * opts.body_size
    pre = b"HTTP/1.1 100 Continue\r\n\r\n" if opts.continue_ else b""
    if opts.http10:
        head = b"HTTP/1.0 %d OK\r\nContent-Type: text/plain\r\n\r\n" % status
        return pre + head + (b"" if method == "HEAD" else body), True
    headers = [b"HTTP/1.1 %d OK" % status, b"Content-Type: text/plain"]
    if opts.close:
        headers.append(b"Connection: close")
    if opts.chunked:
        headers.append(b"Transfer-Encoding: chunked")
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (body[:3], body[3:7], body[7:]) if c)
        payload = chunks + b"0\r\n\r\n"
    else:
        headers.append(b"Content-Length: %d" % len(body))
        payload = body
    if method == "HEAD":
        payload = b""
    return pre + b"\r\n".join(headers) + b"\r\n\r\n" + payload, opts.close


class CountProto(asyncio.Protocol):
    def __init__(self, opts, counts: Counts):
        self.opts, self.counts = opts, counts
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.body = b""
        self.hdrs: list[str] = []
        self.held: list[bytes] = []  # --batch: answers not written yet

    def connection_made(self, transport):
        self.t = transport
        self.counts.connections += 1

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.t.close()

    def on_url(self, url):
        self.url += url

    def on_header(self, name, value):
        self.hdrs.append(f"{name.decode()}: {value.decode()}")

    def on_body(self, body):
        self.body += body

    def on_message_complete(self):
        url, body, hdrs = self.url.decode(), self.body.decode(errors="replace"), self.hdrs
        self.url, self.body, self.hdrs = b"", b"", []
        method = self.parser.get_method().decode()
        c = self.counts
        if url == "/__count":
            payload = json.dumps({"requests": c.requests, "methods": c.methods, "paths": c.paths,
                                  "bodies": c.bodies, "headers": c.headers, "hosts": c.hosts,
                                  "auths": c.auths, "connections": c.connections}).encode()
            self.t.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(payload), payload))
            return
        c.requests += 1
        c.methods[method] = c.methods.get(method, 0) + 1
        if self.opts.record:
            c.paths.append(url)
            c.bodies.append(body)
            c.headers.extend(h for h in hdrs if h.lower().startswith("x-"))
            c.hosts.extend(h.split(": ", 1)[1] for h in hdrs if h.lower().startswith("host:"))
            c.auths.extend(h.split(": ", 1)[1] for h in hdrs if h.lower().startswith("authorization:"))
        if c.first is None:
            c.first = time.monotonic()
        o = self.opts
        if o.pause_after is not None and time.monotonic() - c.first >= o.pause_after:
            o.pause_after = None
            time.sleep(o.pause_for)  # the whole server stalls
        if o.stall_path and url == o.stall_path:
            return  # never answered
        resp, close = make_response(o, c.requests, method)
        if o.upgrade:
            resp, close = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x-test\r\nConnection: Upgrade\r\n\r\n", False
        if o.nested and c.requests % 2:  # the same bytes as a 200, here the body of a 201
            head = b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n" % len(resp)
            self.t.write(head)
            asyncio.get_running_loop().call_later(0.02, self.answer, resp, close)
        elif o.batch > 1:
            self.held.append(resp)
            if len(self.held) == o.batch:
                self.answer(b"".join(self.held), close)
                self.held = []
        elif o.delay:
            asyncio.get_running_loop().call_later(o.delay, self.answer, resp, close)
        else:
            self.answer(resp, close)

    def answer(self, resp: bytes, close: bool) -> None:
        if self.t.is_closing():
            return
        self.t.write(resp)
        if close:
            self.t.close()


class StallProto(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport

    def data_received(self, data):
        pass


class ResetProto(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport

    def data_received(self, data):
        self.t.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)
        sock = self.t.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        asyncio.get_running_loop().call_later(0.01, self.t.abort)


class GarbageProto(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport

    def data_received(self, data):
        self.t.write(b"\x00\x01NOT HTTP AT ALL\r\n\r\n")


class DropProto(asyncio.Protocol):
    def connection_made(self, transport):
        transport.close()


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("mode")
    ap.add_argument("port", type=int)
    ap.add_argument("--close", action="store_true")
    ap.add_argument("--http10", action="store_true")
    ap.add_argument("--chunked", action="store_true")
    ap.add_argument("--continue", dest="continue_", action="store_true")
    ap.add_argument("--body-size", type=int, default=2)
    ap.add_argument("--status-every", default=None)
    ap.add_argument("--pause-after", type=float, default=None)
    ap.add_argument("--pause-for", type=float, default=1.0)
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--stall-path", default=None)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--nested", action="store_true")
    opts = ap.parse_args()
    opts.upgrade = opts.mode == "upgrade"
    if opts.mode == "noaccept":
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", opts.port))
        sock.listen(0)
        await asyncio.sleep(3600)
        return
    counts = Counts()
    factory = {"count": lambda: CountProto(opts, counts), "stall": StallProto,
               "upgrade": lambda: CountProto(opts, counts),
               "reset": ResetProto, "garbage": GarbageProto, "drop": DropProto}[opts.mode]
    server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", opts.port,
                                                            backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
