"""io-wait on flask + gunicorn threads: workers wait on a slow upstream. Expected culprit: call_upstream.

    pinkclinic doctor -- gunicorn -k gthread --threads 4 -b 127.0.0.1:8000 --chdir samples io_wait_flask:app
"""

import time

from flask import Flask, jsonify

app = Flask(__name__)


def call_upstream(order_id: int) -> dict:
    time.sleep(0.05)  # a slow upstream service
    return {"order": order_id, "status": "shipped"}


@app.get("/")
def order():
    return jsonify(call_upstream(42))
