"""lock-contention on threads and a real database: Flask on gunicorn gthread, one
psycopg (3) connection to PostgreSQL shared by the worker's threads and guarded by a
threading.Lock, each query 10 ms (``pg_sleep(0.01)``). 8 threads, one query at a time:
requests queue on the lock, not in the database. Expected culprit: fetch_account.

    DATABASE_URL=postgresql://user@127.0.0.1:5432/db pinkclinic doctor -- \\
        gunicorn -k gthread --threads 8 -b 127.0.0.1:0 --chdir samples lock_contention_psycopg_flask:app
"""

import os
import threading

import psycopg
from flask import Flask, jsonify

DSN = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
app = Flask(__name__)
DB_LOCK = threading.Lock()
_conn = None  # opened in the worker, after gunicorn's fork


def connection() -> psycopg.Connection:
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg.connect(DSN, autocommit=True)
    return _conn


def fetch_account(number: int) -> dict:
    with DB_LOCK:  # the shared connection serves one query at a time
        row = connection().execute("SELECT %s::int FROM pg_sleep(0.01)", (number,)).fetchone()
        return {"number": row[0], "balance": 42}


@app.get("/")
def account():
    return jsonify(fetch_account(7))
