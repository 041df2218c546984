"""A three-endpoint starlette app on uvicorn that counts every request it serves.

    pinkclinic bench --suite samples/workflows/shop-suite.yaml -- python samples/workflows/shop.py

``GET /__counts`` returns ``{"GET /": n, "POST /items": n, ...}`` (not counted itself);
tests compare it with what the load generator reports. ``POST /login`` returns a
token that ``GET /cart`` requires (for scenarios that capture values). ``GET /die``
kills the server (SIGKILL), for the "server dies mid-suite" case. Any other path is
counted too, and answered 404. ``GET /__content_types`` returns the Content-Type of
every ``POST /items``, counted.
"""

import json
import os
import signal
import sys
from collections import Counter

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

counts: Counter = Counter()
content_types: Counter = Counter()
ITEMS = [{"id": i, "name": f"item {i}", "price": i * 3 % 17} for i in range(50)]


def count(request) -> None:
    counts[f"{request.method} {request.url.path}"] += 1


async def home(request):
    count(request)
    return PlainTextResponse("welcome to the shop\n")


async def items(request):
    count(request)
    if request.method == "POST":
        content_types[request.headers.get("content-type", "none")] += 1
        item = json.loads(await request.body() or b"{}")
        return JSONResponse({"created": item}, status_code=201)
    cheap = sorted(ITEMS, key=lambda x: (x["price"], x["id"]))[:20]
    return JSONResponse({"items": cheap})


async def login(request):
    count(request)
    body = json.loads(await request.body() or b"{}")
    return JSONResponse({"token": f"tok-{body.get('user', 'anon')}", "user": body.get("user")})


async def cart(request):
    count(request)
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Bearer tok-"):
        return JSONResponse({"error": "no token"}, status_code=401)
    return JSONResponse({"user": auth[len("Bearer tok-"):], "items": ITEMS[:3]})


async def die(request):
    count(request)
    os.kill(os.getpid(), signal.SIGKILL)


async def get_counts(request):
    return JSONResponse(dict(counts))


async def get_content_types(request):
    return JSONResponse(dict(content_types))


async def elsewhere(request):
    count(request)
    return PlainTextResponse("not here\n", status_code=404)


app = Starlette(routes=[Route("/", home), Route("/items", items, methods=["GET", "POST"]),
                        Route("/login", login, methods=["POST"]), Route("/cart", cart),
                        Route("/die", die), Route("/__counts", get_counts),
                        Route("/__content_types", get_content_types),
                        Route("/{rest:path}", elsewhere, methods=["GET", "POST", "PUT", "DELETE"])])

if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("PORT", "8000"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
