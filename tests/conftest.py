"""Suite-wide guards.

Every test runs with a unique ``PINKCLINIC_TEST_TAG`` in its environment, which
every process it starts inherits (servers, workers, py-spy, chromium). After the
test, any live process still carrying the tag is an orphan: the test fails and
the orphan is killed, so one leak does not cascade into the next test.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from tests.helpers import ROOT, TAG_VAR, tagged_processes

# Subprocesses run `python -m pinkclinic` from this checkout, whatever is installed.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p)

ORPHAN_GRACE_S = 5.0


@pytest.fixture(autouse=True)
def no_orphans(request):
    tag = uuid.uuid4().hex
    old = os.environ.get(TAG_VAR)
    os.environ[TAG_VAR] = tag
    try:
        yield tag
    finally:
        if old is None:
            os.environ.pop(TAG_VAR, None)
        else:
            os.environ[TAG_VAR] = old
    deadline = time.monotonic() + ORPHAN_GRACE_S
    left = tagged_processes(tag)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = tagged_processes(tag)
    if left:
        for pid, _ in left:
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if "allow_orphans" not in request.keywords:
            pytest.fail("processes outlived the test: " +
                        "; ".join(f"{pid} {cmd[:120]}" for pid, cmd in left), pytrace=False)
