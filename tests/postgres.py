"""A real PostgreSQL for the tests, from Debian's ``postgresql`` (installed by .ci/setup).

``running_postgres()`` initialises a cluster in a fresh temp dir, starts it on a free
port of 127.0.0.1 with its unix socket in that dir, waits until it accepts connections
and stops it (fast shutdown, then SIGKILL) when the block ends, also on failure.
PostgreSQL refuses to run as root: under root the dir is given to the ``postgres`` user
and the server runs as that user. Without the binaries the test is skipped, in one line.

The server is started without the test's ``PINKCLINIC_TEST_TAG``: a session-wide server
outlives the first test that asked for it and must not count as that test's orphan.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import TAG_VAR, free_port, stop_group

START_TIMEOUT_S = 30.0
# a throwaway cluster: no durability, small memory
SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
            "shared_buffers": "16MB", "max_connections": "100", "logging_collector": "off"}


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    dir: Path

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"


def bindir() -> Path | None:
    """The newest Debian PostgreSQL's bin dir, or the one ``initdb`` is found in."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and (Path(initdb).parent / "postgres").exists() else None


def _as_user() -> dict:
    """Popen arguments that run the server as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return {}
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("running as root and there is no 'postgres' user to run PostgreSQL "
                           "as (Debian's postgresql package creates it)") from None
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


@contextlib.contextmanager
def running_postgres() -> Iterator[Postgres]:
    bins = bindir()
    if bins is None:
        pytest.skip("PostgreSQL binaries not found (apt-get install postgresql)")
    who = _as_user()
    env = {k: v for k, v in os.environ.items() if k != TAG_VAR and not k.startswith("PG")}
    env.update(LC_ALL="C", LANG="C")
    tmp = Path(tempfile.mkdtemp(prefix="pinkclinic-pg-"))
    proc = None
    try:
        if who:
            os.chown(tmp, who["user"], who["group"])
        data = tmp / "data"
        init = subprocess.run([str(bins / "initdb"), "-D", str(data), "-U", "postgres",
                               "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
                              capture_output=True, text=True, env=env, timeout=120, **who)
        if init.returncode != 0:
            raise RuntimeError(f"initdb failed: {init.stderr.strip()[-1500:]}")
        port = free_port()
        args = [str(bins / "postgres"), "-D", str(data), "-p", str(port), "-k", str(tmp),
                "-h", "127.0.0.1"]
        for k, v in SETTINGS.items():
            args += ["-c", f"{k}={v}"]
        log = open(tmp / "postgres.log", "wb")  # noqa: SIM115 (closed with the server)
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, **who)
        log.close()
        _wait_ready(bins, port, proc, tmp, env)
        yield Postgres("127.0.0.1", port, tmp)
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def _wait_ready(bins: Path, port: int, proc: subprocess.Popen, tmp: Path, env: dict) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        ready = subprocess.run([str(bins / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port),
                                "-U", "postgres", "-t", "2"], env=env, timeout=10)
        if ready.returncode == 0:
            return
        time.sleep(0.1)
    log = (tmp / "postgres.log").read_text(errors="replace")[-1500:]
    raise RuntimeError(f"PostgreSQL did not accept connections on 127.0.0.1:{port} "
                       f"(exit {proc.poll()}):\n{log}")


def _stop(proc: subprocess.Popen) -> None:
    # SIGINT: postgres's fast shutdown (ends the sessions, then exits); its children
    # (checkpointer, walwriter, ...) are in its group
    stop_group(proc, timeout=15, sig=signal.SIGINT)
