"""loop-blocking-call: a synchronous call inside an async handler. Expected culprit: fetch_exchange_rates.

    pinkclinic doctor -- python samples/blocking_starlette.py
"""

import os
import time

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


def fetch_exchange_rates() -> dict:
    time.sleep(0.03)  # stands for a blocking HTTP/DB client used from async code
    return {"EUR": 1.0, "USD": 1.08}


async def convert(request):
    rates = fetch_exchange_rates()
    return JSONResponse({"amount": 100 * rates["USD"]})


app = Starlette(routes=[Route("/", convert)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")),
                log_level="warning", access_log=False)
