"""NO LEAK: the same page cache as cache_leak.py, bounded to 1000 entries (LRU).

It fills within the first thousand requests (well inside a test's load), then evicts one page per new URL:
live memory rises, then stays flat.
"""

from __future__ import annotations

import os
import sys
from collections import OrderedDict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import port_from_argv, run_uvicorn
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

MAX_PAGES = 1000
_pages: OrderedDict[str, str] = OrderedDict()


def render_page(url: str) -> str:
    rows = "".join(f"<tr><td>{i}</td><td>{url}</td></tr>" for i in range(40))
    return f"<html><body><h1>{url}</h1><table>{rows}</table></body></html>"


def render_page_cached(url: str) -> str:
    page = _pages.get(url)
    if page is not None:
        _pages.move_to_end(url)
        return page
    page = _pages[url] = render_page(url)
    if len(_pages) > MAX_PAGES:
        _pages.popitem(last=False)
    return page


async def visit(request):
    return HTMLResponse(render_page_cached(str(request.url)))


app = Starlette(routes=[Route("/visit", visit), Route("/", visit)])

if __name__ == "__main__":
    run_uvicorn(app, port_from_argv())
