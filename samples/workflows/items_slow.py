"""The "before" of a comparison: /items rebuilds and re-serialises its answer on every
request, in pure Python, and keeps every page it ever built (a cache that never hits).

    pinkclinic compare --a "python samples/workflows/items_slow.py" \\
                       --b "python samples/workflows/items_fast.py" --load "-c 10 -d 5 /items"
"""

import os
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

ITEMS = [{"id": i, "name": f"item {i}", "price": (i * 37) % 101} for i in range(400)]
pages: list[bytes] = []  # grows: every answer is kept


def render() -> bytes:
    rows = sorted(ITEMS, key=lambda x: (x["price"], x["name"]))
    parts = [f'{{"id": {r["id"]}, "name": "{r["name"]}", "price": {r["price"]}}}' for r in rows]
    return ("[" + ", ".join(parts) + "]").encode()


async def items(request):
    body = render()
    if len(pages) < 20000:
        pages.append(body)
    return Response(body, media_type="application/json")


app = Starlette(routes=[Route("/items", items), Route("/", items)])

if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("PORT", "8000"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
