"""Fixtures for the target tests: real servers started through pinkclinic's launcher."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pinkclinic.target import spawn

APPS = Path(__file__).resolve().parent / "apps"
PY = sys.executable


@pytest.fixture
def start(tmp_path):
    """``start(command, env=None, ...)``: spawn + release with the log in tmp_path; every
    target is stopped at teardown."""
    targets = []

    def _start(command, *, env=None, cwd=None, port=None, log="target.log"):
        target = spawn([str(a) for a in command], cwd=cwd, port=port)
        targets.append(target)
        target.release(tmp_path / log, env)
        return target

    yield _start
    for target in targets:
        target.stop(5)
