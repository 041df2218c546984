"""gil-contention: a plain ``def`` FastAPI endpoint doing pure-Python work. FastAPI runs
sync endpoints in anyio's thread pool (40 threads), so concurrent requests compete for
the GIL instead of running in parallel. Expected verdict: gil-contention.

    pinkclinic doctor -- python samples/gil_fastapi.py
"""

import os

import uvicorn
from fastapi import FastAPI

app = FastAPI()


def compute_recommendations(user_id: int, n: int) -> list[int]:
    scores = {}
    for item in range(n):
        scores[item] = (item * 2654435761 + user_id) % 4_294_967_296 % 1000
    return sorted(scores, key=scores.__getitem__, reverse=True)[:5]


@app.get("/")
def recommendations(user_id: int = 7):
    return {"items": compute_recommendations(user_id, 40_000)}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")),
                log_level="warning", access_log=False)
