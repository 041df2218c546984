"""LEAK OF A KNOWN SIZE: every request keeps exactly KEEP_BYTES (default 20 000) bytes.

`remember_visit` appends one KEEP_BYTES-long bytes object per request to a list
(plus the list's own 8-byte slot), so the true leak rate is KEEP_BYTES + ~8 bytes
per request. Set the environment variable KEEP_BYTES to change it.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import port_from_argv, run_uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

KEEP_BYTES = int(os.environ.get("KEEP_BYTES", "20000"))
_visits: list[bytes] = []


def remember_visit(n: str) -> None:
    record = n.encode().ljust(KEEP_BYTES, b".")[:KEEP_BYTES]
    _visits.append(record)


async def visit(request):
    remember_visit(request.query_params.get("n", ""))
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/visit", visit), Route("/", visit)])

if __name__ == "__main__":
    run_uvicorn(app, port_from_argv())
