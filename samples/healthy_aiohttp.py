"""healthy on aiohttp, with a metrics thread that sleeps between flushes, as many servers
have. The thread's Python frame is ``time.sleep`` most of the time, which must not count as
a thread wanting the GIL. Expected verdict: healthy.

    pinkclinic doctor -- python samples/healthy_aiohttp.py
"""

import os
import threading
import time

from aiohttp import web

COUNTS = {"requests": 0}


def flush_metrics() -> None:
    while True:
        time.sleep(0.2)  # a real one would send COUNTS to a metrics backend here
        COUNTS["flushed"] = COUNTS["requests"]


async def list_items(request):
    COUNTS["requests"] += 1
    return web.json_response({"items": [{"id": i, "name": f"item {i}"} for i in range(10)]})


app = web.Application()
app.router.add_get("/", list_items)

if __name__ == "__main__":
    threading.Thread(target=flush_metrics, name="metrics", daemon=True).start()
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")), print=None,
                access_log=None)
