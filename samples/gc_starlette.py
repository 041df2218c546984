"""gc-pressure: every request builds thousands of container objects that live for a
while in a recent-results buffer, so full collections keep scanning a large heap.
Expected culprit: build_search_index.

    pinkclinic doctor -- python samples/gc_starlette.py
"""

import collections
import os

import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

RECENT = collections.deque(maxlen=300)  # the last 300 indexes stay alive


def build_search_index(words: int) -> dict:
    index = {}
    for i in range(words):
        node = {"word": i, "refs": [i, i + 1], "next": None}
        node["next"] = node  # a cycle: only the cyclic GC can free it
        index[i] = node
    return index


async def search(request):
    index = build_search_index(2_000)
    RECENT.append(index)
    return JSONResponse({"size": len(index)})


app = Starlette(routes=[Route("/", search)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")),
                log_level="warning", access_log=False)
