"""doctor on servers that use a real PostgreSQL (tests/postgres.py) through real drivers:
asyncpg's pool and psycopg 3. The verdict, the culprit and what it waits on, as doctor
writes them to diagnosis.json. The rules are tested on synthetic recordings
(tests/analysis/test_waits.py, test_gil.py); these runs check that the drivers' waits
are recognised: asyncpg's pool acquire as a pool, its protocol's reads as the
database's socket, a threading.Lock around psycopg as a lock (not the GIL)."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.commands.doctor_run import check_diagnosis
from tests.helpers import SAMPLES, run_cli
from tests.postgres import running_postgres

LOAD = "-c 20 -d 3"  # 20 connections: ten times the small pool, 2.5 times the 8 threads
# fewer for the database's own latency: at 20 the loop itself (about 1 ms of CPU a request)
# nears a core on this 2-core machine, and requests wait for it rather than the database
IO_LOAD = "-c 5 -d 3"


@pytest.fixture(scope="session")
def postgres():
    with running_postgres() as pg:
        yield pg


def doctor(tmp_path, postgres, name, command, verdict, culprit, load=LOAD) -> dict:
    env = {**os.environ, "PORT": "0", "DATABASE_URL": postgres.dsn}
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", name, "--load", load, "--",
                   *command, timeout=150, env=env)
    rec = tmp_path / f"{name}.pinkclinic-doctor"
    diagnosis = check_diagnosis(proc, rec, verdict, culprit)
    assert "gil-contention" not in {i["category"] for i in diagnosis["issues"]}, diagnosis["summary"]
    return diagnosis["issues"][0]["culprits"][0]


@pytest.mark.slow
def test_asyncpg_pool_of_two_is_pool_exhausted_at_its_acquire(tmp_path, postgres):
    top = doctor(tmp_path, postgres, "pg-pool", [sys.executable, str(SAMPLES / "pool_exhausted_asyncpg.py")],
                 "pool-exhausted", "load_orders")
    assert top["kind"] == "queue" and top["resource"].startswith("asyncpg.pool.Pool"), top
    assert top["size"] == 2 and top["max_waiters"] >= 10, top  # 20 connections, 2 slots
    # the queue's wait is the acquire (the async with line), not the query under it
    line = (SAMPLES / "pool_exhausted_asyncpg.py").read_text().splitlines()[top["line"] - 1]
    assert "pool.acquire()" in line, line


@pytest.mark.slow
def test_asyncpg_slow_queries_are_io_wait_on_the_database_address(tmp_path, postgres):
    top = doctor(tmp_path, postgres, "pg-io", [sys.executable, str(SAMPLES / "io_wait_asyncpg.py")],
                 "io-wait", "query_inventory", load=IO_LOAD)
    assert (top["kind"], top["resource"]) == ("socket", f"127.0.0.1:{postgres.port}"), top
    assert top["share"] >= 0.5, top  # the waits' verdict, not the io analyzer's guess


@pytest.mark.slow
def test_psycopg_behind_a_threading_lock_on_gthread_is_lock_contention(tmp_path, postgres):
    top = doctor(tmp_path, postgres, "pg-lock",
                 [sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "8", "-b",
                  "127.0.0.1:0", "--chdir", str(SAMPLES), "lock_contention_psycopg_flask:app"],
                 "lock-contention", "fetch_account")
    assert (top["kind"], top["resource"]) == ("lock", "threading.Lock"), top
    assert top["max_waiters"] >= 5, top  # 8 threads, one in the database
    rec = json.loads((tmp_path / "pg-lock.pinkclinic-doctor" / "diagnosis.json").read_text())
    assert "held about" in rec["summary"]  # how long the lock is held, from the holders


@pytest.mark.slow
def test_waits_on_asyncpg_names_the_pool_and_the_database(tmp_path, postgres):
    """``pinkclinic waits`` on the same pool sample: the pool's acquire leads, and what is
    left of a request's wait is the database's own socket, at its real address."""
    env = {**os.environ, "PORT": "0", "DATABASE_URL": postgres.dsn}
    proc = run_cli("waits", "--dest", str(tmp_path), "--name", "pg-waits", "--load", LOAD, "--",
                   sys.executable, str(SAMPLES / "pool_exhausted_asyncpg.py"), timeout=150,
                   env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rec = tmp_path / "pg-waits.pinkclinic-waits"
    sites = json.loads((rec / "waits.json").read_text())["sites"]
    top = sites[0]
    assert (top["function"], top["kind"]) == ("load_orders", "queue"), sites[:3]
    assert top["resource"].startswith("asyncpg.pool.Pool") and top["share"] >= 0.6, top
    db = [s for s in sites if s["kind"] == "socket"]
    assert db and db[0]["resource"] == f"127.0.0.1:{postgres.port}", sites[:5]
    assert json.loads((rec / "diagnosis.json").read_text())["verdict"] == "pool-exhausted"
