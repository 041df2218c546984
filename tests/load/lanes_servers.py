"""Misbehaving HTTP/2 and WebSocket servers for the lane engine's tests.

    python tests/load/lanes_servers.py MODE PORT

Modes:
  h2silent  HTTP/2 (h2c): send SETTINGS, then never answer a stream.
  h2refuse  HTTP/2 (h2c): 50 ms after each request, a graceful GOAWAY (NO_ERROR) whose
            last stream id is 0, so the request was never taken and is to be sent again;
            then close the connection. Forever: no request is ever taken.
  wssilent  WebSocket: complete the handshake, read every message, never answer.
  wsquit    WebSocket: echo the first QUIT_AFTER messages, then exit (every connect is
            refused from then on).
"""

from __future__ import annotations

import asyncio
import os
import sys

REFUSE_AFTER_S = 0.05
QUIT_AFTER = 2


class H2Proto(asyncio.Protocol):
    def __init__(self, refuse: bool):
        from h2.config import H2Configuration
        from h2.connection import H2Connection

        self.h2 = H2Connection(H2Configuration(client_side=False, header_encoding=None))
        self.refuse = refuse
        self.t = None

    def connection_made(self, transport):
        self.t = transport
        self.h2.initiate_connection()
        transport.write(self.h2.data_to_send())

    def data_received(self, data):
        from h2.events import RequestReceived
        from h2.exceptions import H2Error

        try:
            events = self.h2.receive_data(data)
        except H2Error:
            self.t.abort()
            return
        if self.refuse and any(isinstance(ev, RequestReceived) for ev in events):
            asyncio.get_running_loop().call_later(REFUSE_AFTER_S, self.goaway)
        self.t.write(self.h2.data_to_send())

    def goaway(self):
        if self.t.is_closing():
            return
        self.h2.close_connection(error_code=0, last_stream_id=0)
        self.t.write(self.h2.data_to_send())
        self.t.close()


async def ws_server(port: int, quit_after: int | None) -> None:
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed

    seen = 0

    async def handler(ws):
        nonlocal seen
        try:
            async for message in ws:
                seen += 1
                if quit_after is None:
                    continue
                await ws.send(message)
                if seen == quit_after:
                    os._exit(0)
        except ConnectionClosed:
            pass

    async with serve(handler, "127.0.0.1", port, ping_interval=None):
        await asyncio.Future()


async def main() -> None:
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode in ("wssilent", "wsquit"):
        await ws_server(port, QUIT_AFTER if mode == "wsquit" else None)
        return
    refuse = {"h2silent": False, "h2refuse": True}[mode]
    server = await asyncio.get_running_loop().create_server(lambda: H2Proto(refuse),
                                                            "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
