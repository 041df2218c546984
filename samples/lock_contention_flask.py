"""lock-contention on threads: Flask on gunicorn gthread, every request takes one shared
threading.Lock around a 10 ms call (a client that is not thread-safe, guarded by a
lock): 8 threads, one at a time. Expected culprit: fetch_account.

    pinkclinic doctor -- gunicorn -k gthread --threads 8 -b 127.0.0.1:0 --chdir samples lock_contention_flask:app
    pinkclinic waits -- gunicorn -k gthread --threads 8 -b 127.0.0.1:0 --chdir samples lock_contention_flask:app
"""

import threading
import time

from flask import Flask, jsonify

app = Flask(__name__)
CLIENT_LOCK = threading.Lock()


def fetch_account(number: int) -> dict:
    with CLIENT_LOCK:  # the shared client serves one call at a time
        time.sleep(0.01)  # its round trip
        return {"number": number, "balance": 42}


@app.get("/")
def account():
    return jsonify(fetch_account(7))
