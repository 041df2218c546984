"""A Starlette hello-world served by uvicorn (one worker, uvloop + httptools). For benchmarks.

    python samples/hello_starlette.py [PORT]
"""

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(request):
    return JSONResponse({"hello": "world"})


app = Starlette(routes=[Route("/", hello)])

if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
