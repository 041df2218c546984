"""loop-cpu on aiohttp: JSON encoding of a big document on the loop. Expected culprit: build_catalog.

    pinkclinic doctor -- python samples/loop_cpu_aiohttp.py
"""

import os

from aiohttp import web


def build_catalog(size: int) -> list:
    return [{"sku": f"SKU-{i:06d}", "price": (i * 7919) % 10_000 / 100, "tags": [str(i % 7), str(i % 11)]}
            for i in range(size)]


async def catalog(request):
    items = build_catalog(40_000)
    return web.json_response({"count": len(items), "first": items[0]})


app = web.Application()
app.router.add_get("/", catalog)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")), print=None,
                access_log=None)
