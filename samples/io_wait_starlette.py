"""io-wait: the server is idle but slow, because every request waits for a slow backend
(50 ms), behind a pool large enough for the load: the wait is the backend's, not the
pool's (a pool of 4 under 10 connections would be pool-exhausted). Expected culprit:
query_inventory.

    pinkclinic doctor -- python samples/io_wait_starlette.py
"""

import asyncio
import os

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

POOL = asyncio.Semaphore(64)  # a connection pool with 64 slots


async def query_inventory(sku: str) -> int:
    async with POOL:
        await asyncio.sleep(0.05)  # the backend's round trip
        return len(sku)


async def stock(request):
    return JSONResponse({"stock": await query_inventory("SKU-1")})


app = Starlette(routes=[Route("/", stock)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")),
                log_level="warning", access_log=False)
