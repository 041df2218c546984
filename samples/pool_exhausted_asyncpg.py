"""pool-exhausted on a real database: aiohttp with asyncpg's pool of 2 connections to
PostgreSQL, each query 20 ms (``pg_sleep(0.02)``). Under 10 or 20 connections most of a
request's time is spent in ``pool.acquire()`` waiting for a free connection, not in the
database. Expected culprit: load_orders (the pool's acquire).

    DATABASE_URL=postgresql://user@127.0.0.1:5432/db \\
        pinkclinic doctor -- python samples/pool_exhausted_asyncpg.py
"""

import os

import asyncpg
from aiohttp import web

DSN = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
POOL_SIZE = 2


async def load_orders(pool: asyncpg.Pool, user: int) -> int:
    async with pool.acquire() as conn:  # one of POOL_SIZE connections
        return await conn.fetchval("SELECT $1::int FROM pg_sleep(0.02)", user)


async def orders(request):
    return web.json_response({"orders": await load_orders(request.app["pool"], 7)})


async def open_pool(app):
    app["pool"] = await asyncpg.create_pool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)
    yield
    await app["pool"].close()


app = web.Application()
app.cleanup_ctx.append(open_pool)
app.router.add_get("/", orders)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")), print=None,
                access_log=None)
