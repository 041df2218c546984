"""LEAK OF SMALL OBJECTS: a session log of small dicts, tuples and strings (starlette).

Every object `remember_session` keeps is 512 bytes or less, so memray (without
--trace-python-allocators) sees only the pymalloc arenas that hold them, opened
by whichever allocation happens to need one. The list that holds them grows in
step, at the right stack: the report must point at it.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import number, port_from_argv, run_uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

_sessions: list[dict] = []


def remember_session(n: int) -> None:
    _sessions.append({"n": n, "user": f"user-{n}", "session": f"session-{n:08d}",
                      "seen": (n, n + 1, str(n)),
                      "prefs": {"lang": f"en-{n % 7}", "theme": f"t{n % 3}", "tz": f"+{n % 12}"}})


async def visit(request):
    remember_session(number(request.query_params.get("n")))
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/visit", visit), Route("/", visit)])

if __name__ == "__main__":
    run_uvicorn(app, port_from_argv())
