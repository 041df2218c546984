"""A WebSocket server that pushes on its own: after a client's first message (its
subscription) it sends a small JSON tick every ``--interval`` seconds (default 0.01).

    python samples/workflows/ws_push.py 8766
    pinkclinic bench -c 5 -d 5 --on-connect subscribe ws://127.0.0.1:8766/

A plain HTTP ``GET /__counts`` returns ``{"sent": n, "connections": n}``.
"""

import asyncio
import json
import sys
import time
from http import HTTPStatus

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

counts = {"sent": 0, "connections": 0}
INTERVAL = float(sys.argv[2]) if len(sys.argv) > 2 else 0.01


def process_request(connection, request):
    if request.path == "/__counts":
        return connection.respond(HTTPStatus.OK, json.dumps(counts) + "\n")
    return None


async def handler(ws):
    counts["connections"] += 1
    try:
        await ws.recv()  # the subscription
        seq = 0
        while True:
            seq += 1
            await ws.send(json.dumps({"seq": seq, "t": time.time()}))
            counts["sent"] += 1
            await asyncio.sleep(INTERVAL)
    except ConnectionClosed:
        pass


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, process_request=process_request,
                     compression=None, ping_interval=None):
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    try:
        asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8766))
    except KeyboardInterrupt:
        pass
