"""memory-leak: every request is remembered forever. Expected: memory-leak, about 4 kB per request.

    pinkclinic doctor -- python samples/leak_starlette.py
"""

import os

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

VISITS = []


def remember_visit(path: str) -> None:
    VISITS.append(bytearray(4096))  # never freed


async def page(request):
    remember_visit(request.url.path)
    return JSONResponse({"visits": len(VISITS)})


app = Starlette(routes=[Route("/", page)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")),
                log_level="warning", access_log=False)
