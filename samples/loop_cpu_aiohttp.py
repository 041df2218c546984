"""loop-cpu on aiohttp: password hashing straight on the event loop. Expected culprit: hash_password.

    pinkclinic doctor -- python samples/loop_cpu_aiohttp.py
"""

import hashlib
import os

from aiohttp import web


def hash_password(password: str, salt: bytes) -> str:
    # ~20-40 ms of CPU per call; belongs in a process pool, not on the loop
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 60_000).hex()


async def login(request):
    digest = hash_password("correct horse battery staple", b"pinkclinic-salt")
    return web.json_response({"ok": True, "digest": digest[:16]})


app = web.Application()
app.router.add_get("/", login)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")), print=None,
                access_log=None)
