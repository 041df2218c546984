"""loop-blocking-call: an async handler waits for a thread pool's answer with
``future.result()``, which blocks the event loop (in ``Condition.wait``) for the whole
50 ms lookup. Expected: loop-blocking-call, culprit ``get_profile``.

    pinkclinic doctor -- python samples/blocking_future_aiohttp.py
"""

import os
import time
from concurrent.futures import ThreadPoolExecutor

from aiohttp import web

POOL = ThreadPoolExecutor(4)


def slow_lookup(user: str) -> dict:
    time.sleep(0.05)  # a slow backend
    return {"user": user, "plan": "pro"}


def get_profile(user: str) -> dict:
    return POOL.submit(slow_lookup, user).result()  # should be: await loop.run_in_executor(...)


async def profile(request):
    return web.json_response(get_profile(request.query.get("user", "anon")))


app = web.Application()
app.router.add_get("/", profile)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")), print=None,
                access_log=None)
