"""lock-contention: requests serialise on one asyncio.Lock, held across a 10 ms call
(a token refresh done under the lock on every request, instead of only when the token
expired). The server is idle and slow, but the wait is inside the process: the fix is
the lock's scope, not the backend. Expected culprit: current_token.

    pinkclinic doctor -- python samples/lock_contention_aiohttp.py
    pinkclinic waits -- python samples/lock_contention_aiohttp.py
"""

import asyncio
import os

from aiohttp import web

STATE = {"token": None}


async def refresh_token() -> str:
    await asyncio.sleep(0.01)  # the identity provider's round trip
    return "token"


async def current_token(lock: asyncio.Lock) -> str:
    async with lock:  # held across the refresh: every request waits for the one before
        STATE["token"] = await refresh_token()
        return STATE["token"]


async def profile(request):
    token = await current_token(request.app["lock"])
    return web.json_response({"user": 7, "token": token[:2]})


async def make_lock(app):
    app["lock"] = asyncio.Lock()


app = web.Application()
app.on_startup.append(make_lock)
app.router.add_get("/", profile)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")), print=None,
                access_log=None)
