"""pytest-timeout must stop a test stuck in ``run_load``, whose loop is uvloop's.

``test_hangs_in_run_load_on_purpose`` waits in ``run_load`` on a server that never
answers, with a 600 s request timeout; it runs only when the outer test asks for it,
in a pytest of its own with a 3 s timeout, which must stop it and go on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from pinkclinic.load import run_load
from pinkclinic.loadargs import parse_bench_args
from tests.helpers import ROOT

ON_PURPOSE = "PINKCLINIC_HANG_ON_PURPOSE"


@pytest.mark.skipif(os.environ.get(ON_PURPOSE) != "1", reason="hangs on purpose: run by "
                    "test_pytest_timeout_stops_a_test_stuck_in_run_load")
def test_hangs_in_run_load_on_purpose(serve):
    s = serve("stall")
    run_load(parse_bench_args(["-a", "1", "-c", "1", "-t", "600", s.url]))


@pytest.mark.skipif(os.environ.get(ON_PURPOSE) != "1", reason="the second half of "
                    "test_pytest_timeout_stops_a_test_stuck_in_run_load, run by it")
def test_an_ordinary_test_after_it():
    """Runs after the stopped one, in the same pytest: the session went on."""


def test_pytest_timeout_stops_a_test_stuck_in_run_load():
    t = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--timeout", "3", "-q",
         f"{__file__}::test_hangs_in_run_load_on_purpose",
         f"{__file__}::test_an_ordinary_test_after_it"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, ON_PURPOSE: "1"})
    elapsed = time.monotonic() - t
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "1 failed, 1 passed" in out, out
    assert "TimedOut: Timeout (3s): the test ran past its limit" in out, out
    assert "run_load" in out, out  # the threads' stacks say where it was stuck
    assert elapsed < 60, out  # the backstop (os._exit) did not have to end it
