"""gil-contention: many threads run pure-Python work at once in one process.
Expected verdict: gil-contention.

    pinkclinic doctor -- gunicorn -k gthread --threads 8 -b 127.0.0.1:8000 --chdir samples gil_flask:app
"""

from flask import Flask, jsonify

app = Flask(__name__)


def score_candidates(n: int) -> int:
    best = 0
    for i in range(n):
        best = max(best, (i * 2654435761) % 4_294_967_296 % 1000)
    return best


@app.get("/")
def rank():
    return jsonify({"best": score_candidates(60_000)})
