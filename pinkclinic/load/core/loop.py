"""The event loop a load runs on: uvloop when installed, closed with nothing left pending."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is still pending on ``loop``, let it finish, and close the loop."""
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()


def run_on_new_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on a loop of its own (``new_event_loop``), closed afterwards."""
    loop = new_event_loop()
    try:
        return loop.run_until_complete(main)
    finally:
        close_loop(loop)
