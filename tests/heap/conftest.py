"""Captures shared by the heap tests: each sample is run and loaded once per session."""

from __future__ import annotations

import pytest

from pinkclinic.heap import analyse
from tests.heap.harness import capture

LOAD_S = 3.0
GUNICORN = ["-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:{port}", "--chdir", "samples/heap",
            "known_rate_wsgi:app"]


class _Runs:
    def __init__(self, factory):
        self._dir = factory
        self._done: dict[str, dict] = {}

    def get(self, sample: str, **kw) -> dict:
        """``{"files", "window", "ticks", "requests", "result"}`` for one sample run."""
        key = sample + repr(sorted(kw.items()))
        if key not in self._done:
            cap = capture(sample, self._dir.mktemp(sample.replace(".", "_")),
                          seconds=LOAD_S, **kw)
            cap["result"] = analyse(cap["files"], window=cap["window"], requests=cap["ticks"])
            self._done[key] = cap
        return self._done[key]


@pytest.fixture(scope="session")
def heap_runs(tmp_path_factory) -> _Runs:
    return _Runs(tmp_path_factory)
