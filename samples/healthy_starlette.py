"""healthy: a starlette app on uvicorn that answers at once. Expected verdict: healthy.

    pinkclinic doctor -- python samples/healthy_starlette.py
"""

import os

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def list_items(request):
    return JSONResponse({"items": [{"id": i, "name": f"item {i}"} for i in range(10)]})


app = Starlette(routes=[Route("/", list_items)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")),
                log_level="warning", access_log=False)
