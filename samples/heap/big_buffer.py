"""NO LEAK: a 32 MB lookup table built by the first request, then only read (aiohttp).

Live memory takes one large step when the table is built and then stays the
same size; a per-request 64 kB scratch buffer is allocated and freed each time.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import number, port_from_argv
from aiohttp import web

TABLE_BYTES = 32 * 1024 * 1024
_table: bytearray | None = None


def lookup_table() -> bytearray:
    global _table
    if _table is None:
        _table = bytearray(TABLE_BYTES)
        for i in range(0, TABLE_BYTES, 4096):
            _table[i] = i % 251
    return _table


async def visit(request):
    n = number(request.query.get("n"))
    table = lookup_table()
    scratch = bytearray(64 * 1024)  # freed when the handler returns
    scratch[0] = table[(n * 4096) % TABLE_BYTES]
    return web.Response(text=f"ok {scratch[0]}")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/visit", visit)
    app.router.add_get("/", visit)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=port_from_argv(), print=None,
                access_log=None)
