"""pool-exhausted: a blocking client called through run_in_executor on a thread pool of
2 workers. Each call takes 20 ms; under 10 or 20 connections the requests queue for
a worker. Expected culprit: load_invoice (the executor).

    pinkclinic doctor -- python samples/pool_exhausted_starlette.py
    pinkclinic waits -- python samples/pool_exhausted_starlette.py
"""

import asyncio
import os
import time
from concurrent.futures import ThreadPoolExecutor

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="blocking-client")


def blocking_fetch(number: int) -> dict:
    time.sleep(0.02)  # a synchronous client's round trip
    return {"number": number, "total": 42}


async def load_invoice(number: int) -> dict:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(WORKERS, blocking_fetch, number)


async def invoice(request):
    return JSONResponse(await load_invoice(7))


app = Starlette(routes=[Route("/", invoice)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")),
                log_level="warning")
