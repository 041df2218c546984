"""A WebSocket echo server (the ``websockets`` library) that counts what it receives.

    python samples/workflows/ws_echo.py 8765
    pinkclinic bench -c 10 -d 5 --message hello ws://127.0.0.1:8765/

Paths: ``/`` echoes every message; ``/forbidden`` refuses the handshake (403);
``/close?after=N`` echoes N messages, then closes with code 4000; ``/big`` answers
every message with 2 MiB (over the client's default limit); ``/mute-first`` does not
answer a connection's first message (a subscription without an ack); ``?delay=S``
echoes each message S seconds late. A plain HTTP
``GET /__counts`` returns ``{"messages": n, "connections": n}``.
"""

import asyncio
import json
import sys
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

counts = {"messages": 0, "connections": 0}
BIG = b"x" * (2 << 20)


def process_request(connection, request):
    path = urlsplit(request.path).path
    if path == "/__counts":
        return connection.respond(HTTPStatus.OK, json.dumps(counts) + "\n")
    if path == "/forbidden":
        return connection.respond(HTTPStatus.FORBIDDEN, "no websockets here\n")
    if request.headers.get("Upgrade", "").lower() != "websocket":
        return connection.respond(HTTPStatus.OK, "a websocket echo server\n")
    return None


async def handler(ws):
    counts["connections"] += 1
    parts = urlsplit(ws.request.path)
    query = parse_qs(parts.query)
    after = int(query.get("after", ["0"])[0])
    delay = float(query.get("delay", ["0"])[0])
    n = 0
    try:
        async for message in ws:
            counts["messages"] += 1
            n += 1
            if n == 1 and parts.path == "/mute-first":
                continue
            if delay:
                await asyncio.sleep(delay)
            await ws.send(BIG if parts.path == "/big" else message)
            if parts.path == "/close" and n >= after:
                await ws.close(4000, "enough")
                return
    except ConnectionClosed:  # the client went away (or refused a message): not our error
        pass


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, process_request=process_request,
                     compression=None, max_size=None, ping_interval=None):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    try:
        asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8765))
    except KeyboardInterrupt:
        pass
