"""A server with a slow route and a cheap one, for the per-route table's tests.

/report/<id> runs 45-80 ms of pure Python on the event loop (render_report; this VM's speed
varies about twofold), well past doctor's 10 ms median-lag bar and 30 ms stall threshold
however fast the machine (at ~20 ms a run could land just under both and read as a busy,
healthy server); /health answers at once.
"""

import os

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route


def render_report(n: int) -> int:
    total = 0
    for i in range(n):
        total = (total * 31 + i * i) % 1_000_003
    return total


async def report(request):
    return JSONResponse({"id": request.path_params["id"], "checksum": render_report(500_000)})


async def health(request):
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/report/{id}", report), Route("/health", health)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")),
                log_level="warning", access_log=False,
                timeout_keep_alive=int(os.environ.get("KEEP_ALIVE_S", "5")))
