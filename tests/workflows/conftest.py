"""Fixtures for the workflow tests: the sample servers of samples/workflows, on free ports."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import urllib.request

import pytest

from tests.helpers import ROOT, free_port, server

SAMPLES = ROOT / "samples" / "workflows"


def sample_cmd(name: str, *args: str) -> list[str]:
    return [sys.executable, str(SAMPLES / name), *args]


class Served:
    def __init__(self, port: int, proc):
        self.port = port
        self.proc = proc
        self.url = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"

    def counts(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/__counts", timeout=10) as r:
            return json.loads(r.read())


@contextlib.contextmanager
def serving():
    """``start("shop.py")`` starts a sample server on a free port and returns a Served;
    every server started is stopped when the block ends."""
    with contextlib.ExitStack() as stack:
        def start(name: str, *args: str, env: dict | None = None) -> Served:
            port = free_port()
            kw = {"env": {**os.environ, **env}} if env else {}
            proc = stack.enter_context(server(sample_cmd(name, str(port), *args), port, **kw))
            return Served(port, proc)

        yield start


@pytest.fixture
def serve():
    """``serve("shop.py")`` starts a sample server on a free port and returns a Served."""
    with serving() as start:
        yield start
