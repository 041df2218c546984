"""memory-leak on flask + gunicorn with two sync workers: each worker keeps an audit record of
every request forever. Expected: memory-leak, about 4 kB per request (RSS is summed over the
master and both workers); `pinkclinic heap` then names record_audit_event.

    pinkclinic doctor -- gunicorn -w 2 -b 127.0.0.1:8000 --chdir samples leak_flask:app
"""

import time

from flask import Flask, jsonify, request

app = Flask(__name__)

AUDIT_LOG = []


def record_audit_event(path: str, remote: str) -> None:
    AUDIT_LOG.append({"t": time.time(), "path": path, "remote": remote,
                      "payload": bytes(4096)})  # never trimmed, never flushed


@app.get("/")
def index():
    record_audit_event(request.path, request.remote_addr or "")
    return jsonify({"events": len(AUDIT_LOG)})
