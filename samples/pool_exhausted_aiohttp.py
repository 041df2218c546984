"""pool-exhausted: requests queue inside the process for a small pool. A Semaphore(2)
stands for a database pool of 2 connections, each query takes 20 ms; under 10 or 20
connections most of a request's time is spent waiting for a free connection, not in
the database. Expected culprit: get_orders (the pool's acquire).

    pinkclinic doctor -- python samples/pool_exhausted_aiohttp.py
    pinkclinic waits -- python samples/pool_exhausted_aiohttp.py
"""

import asyncio
import os

from aiohttp import web

POOL_SIZE = 2


async def run_query(sql: str) -> int:
    await asyncio.sleep(0.02)  # the database's round trip
    return len(sql)


async def get_orders(pool: asyncio.Semaphore, user: int) -> int:
    async with pool:  # check out one of POOL_SIZE connections
        return await run_query(f"SELECT * FROM orders WHERE user_id = {user}")


async def orders(request):
    return web.json_response({"orders": await get_orders(request.app["pool"], 7)})


async def make_pool(app):
    app["pool"] = asyncio.Semaphore(POOL_SIZE)


app = web.Application()
app.on_startup.append(make_pool)
app.router.add_get("/", orders)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")), print=None,
                access_log=None)
