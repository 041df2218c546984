"""loop-cpu inside a list comprehension: on CPython 3.11 and older the comprehension has a
frame of its own (``build_session_graph.<locals>.<listcomp>``), which a culprit must name
after the function it sits in. Standard library only.

    PORT=8000 python comprehension_server.py
"""

import asyncio
import os

BODY = b"ok"
RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + BODY


def build_session_graph(n: int) -> int:
    edges = [sum(j * j for j in range(i % 300)) for i in range(n)]
    return len(edges)


class Handler(asyncio.Protocol):
    def connection_made(self, transport):
        self.t, self.buf = transport, b""

    def data_received(self, data):
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            _, self.buf = self.buf.split(b"\r\n\r\n", 1)
            build_session_graph(3000)  # ~30 ms of CPU work on the event loop, in the comprehension
            self.t.write(RESP)


async def main():
    server = await asyncio.get_running_loop().create_server(
        Handler, "127.0.0.1", int(os.environ.get("PORT", "8000")))
    async with server:
        await server.serve_forever()


asyncio.run(main())
