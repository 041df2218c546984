"""A starlette app whose hot function is known: every request spends most of its CPU in
``checksum``, a little in ``light_work``, then awaits 20 ms (an upstream call), so the
loop waits in every request whatever the clients do."""

import asyncio
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


def checksum(n: int) -> int:
    total = 0
    for i in range(n):
        total = (total * 31 + i) % 1_000_003
    return total


def light_work(n: int) -> int:
    return sum(range(n))


async def handler(request):
    # checksum is ~10 ms a request: far above the time a starved core leaves the server
    # preempted in its socket write, which py-spy sees as active
    text = f"{checksum(100_000)} {light_work(2000)}"
    await asyncio.sleep(0.02)
    return PlainTextResponse(text)


app = Starlette(routes=[Route("/", handler)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), loop=sys.argv[2],
                log_level="warning", access_log=False)
