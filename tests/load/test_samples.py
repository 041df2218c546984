"""The bundled hello-world servers answer pinkclinic bench (README and benchmarks use them)."""

from __future__ import annotations

import sys

import pytest

from pinkclinic.load import run_load
from pinkclinic.loadargs import parse_bench_args
from tests.helpers import ROOT, free_port, server


@pytest.mark.parametrize("name", ["hello_asyncio", "hello_starlette", "hello_flask"])
def test_sample_server_answers(name):
    port = free_port()
    with server([sys.executable, str(ROOT / "samples" / f"{name}.py"), str(port)], port):
        r = run_load(parse_bench_args(["-a", "200", "-c", "4", f"http://127.0.0.1:{port}/"]))
    assert r.status == {200: 200}
    assert r.error_count == 0
