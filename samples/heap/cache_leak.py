"""LEAK: a page cache keyed by the full URL that never evicts (starlette on uvicorn).

Each distinct query string renders and keeps a ~3 kB page forever, the classic
"memoise by request URL" mistake: tracking parameters make every URL distinct.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import port_from_argv, run_uvicorn
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

_pages: dict[str, str] = {}


def render_page(url: str) -> str:
    rows = "".join(f"<tr><td>{i}</td><td>{url}</td></tr>" for i in range(40))
    return f"<html><body><h1>{url}</h1><table>{rows}</table></body></html>"


def render_page_cached(url: str) -> str:
    page = _pages.get(url)
    if page is None:
        page = _pages[url] = render_page(url)  # never evicted
    return page


async def visit(request):
    return HTMLResponse(render_page_cached(str(request.url)))


app = Starlette(routes=[Route("/visit", visit), Route("/", visit)])

if __name__ == "__main__":
    run_uvicorn(app, port_from_argv())
