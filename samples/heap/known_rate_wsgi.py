"""LEAK OF A KNOWN SIZE, multi-process: flask on gunicorn with several workers.

Each worker's `remember_visit` keeps exactly KEEP_BYTES (default 20 000) bytes per
request it serves, so the tree as a whole keeps KEEP_BYTES per request served.

    gunicorn -w 2 -b 127.0.0.1:8000 --chdir samples/heap known_rate_wsgi:app
"""

from __future__ import annotations

import os

from flask import Flask, request

KEEP_BYTES = int(os.environ.get("KEEP_BYTES", "20000"))
_visits: list[bytes] = []

app = Flask(__name__)


def remember_visit(n: str) -> None:
    _visits.append(n.encode().ljust(KEEP_BYTES, b".")[:KEEP_BYTES])


@app.get("/visit")
@app.get("/")
def visit():
    remember_visit(request.args.get("n", ""))
    return "ok"
