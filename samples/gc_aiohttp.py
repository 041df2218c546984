"""gc-pressure on aiohttp: each request parses an order into a graph of small objects with
back references, and the last orders stay cached, so full collections keep scanning a large,
cyclic heap. Expected culprit: parse_order.

    pinkclinic doctor -- python samples/gc_aiohttp.py
"""

import collections
import os

from aiohttp import web

RECENT_ORDERS = collections.deque(maxlen=300)  # the last 300 orders stay alive


def parse_order(lines: int) -> list:
    order = []
    for i in range(lines):
        line = {"sku": i, "qty": [i % 7, i % 3], "order": None}
        line["order"] = order  # a back reference: a cycle only the cyclic GC can free
        order.append(line)
    return order


async def checkout(request):
    order = parse_order(2_000)
    RECENT_ORDERS.append(order)
    return web.json_response({"lines": len(order)})


app = web.Application()
app.router.add_get("/", checkout)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")), print=None,
                access_log=None)
