"""loop-cpu: CPU-heavy Python runs on the event-loop thread. Expected culprit: render_report.

    pinkclinic doctor -- python samples/loop_cpu_starlette.py
"""

import os

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


def render_report(n: int) -> int:
    # ~20-40 ms of pure-Python work per request, run straight on the loop thread
    total = 0
    for i in range(n):
        total = (total * 31 + i * i) % 1_000_003
    return total


async def report(request):
    return JSONResponse({"checksum": render_report(300_000)})


app = Starlette(routes=[Route("/", report)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")),
                log_level="warning", access_log=False)
