"""Fixtures for the load tests: start a purpose-built server (tests/load/servers.py)."""

from __future__ import annotations

import contextlib
import json
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import free_port, server

SERVERS = Path(__file__).with_name("servers.py")


class Served:
    def __init__(self, port: int):
        self.port = port
        self.url = f"http://127.0.0.1:{port}/"

    def counts(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/__count", timeout=10) as r:
            return json.loads(r.read())


@pytest.fixture
def serve():
    """``serve("count", "--close")`` starts a server and returns a Served."""
    with contextlib.ExitStack() as stack:
        def start(mode: str, *opts: str) -> Served:
            port = free_port()
            stack.enter_context(server([sys.executable, str(SERVERS), mode, str(port), *opts], port))
            return Served(port)

        yield start
