"""A starlette app for uvicorn: ``/sleep`` blocks the loop in a sync call, ``/`` is fast."""
import time

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


def fetch_report_sync():
    time.sleep(0.05)
    return "report"


async def sleep_endpoint(request):
    return PlainTextResponse(fetch_report_sync())


async def hello(request):
    return PlainTextResponse("hello")


app = Starlette(routes=[Route("/sleep", sleep_endpoint), Route("/", hello)])
