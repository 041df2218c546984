"""io-wait on a real database: aiohttp with a large asyncpg pool (more connections than
concurrent requests), every request runs a 20 ms query (``pg_sleep(0.02)``) on
PostgreSQL. Requests never queue for a connection: nearly all their time is the
database's, on its socket. Expected culprit: query_inventory, on the database's
address (127.0.0.1:PORT).

    DATABASE_URL=postgresql://user@127.0.0.1:5432/db \\
        pinkclinic doctor -- python samples/io_wait_asyncpg.py
"""

import os

import asyncpg
from aiohttp import web

DSN = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
POOL_SIZE = 40  # above any load's concurrency


async def query_inventory(pool: asyncpg.Pool, sku: int) -> int:
    async with pool.acquire() as conn:
        return await conn.fetchval("SELECT $1::int FROM pg_sleep(0.02)", sku)


async def inventory(request):
    return web.json_response({"stock": await query_inventory(request.app["pool"], 3)})


async def open_pool(app):
    app["pool"] = await asyncpg.create_pool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)
    yield
    await app["pool"].close()


app = web.Application()
app.cleanup_ctx.append(open_pool)
app.router.add_get("/", inventory)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")), print=None,
                access_log=None)
