"""Suite-wide guards.

A test that runs past its timeout (pytest-timeout, ``timeout`` in pyproject.toml) is stopped
with ``TimedOut``, even while it waits inside uvloop; see ``pytest_timeout_set_timer``.

Every test runs with a unique ``PINKCLINIC_TEST_TAG`` in its environment, which
every process it starts inherits (servers, workers, py-spy, chromium). After the
test, any live process still carrying the tag is an orphan: the test fails and
the orphan is killed, so one leak does not cascade into the next test.
"""

from __future__ import annotations

import compileall
import faulthandler
import os
import signal
import sys
import threading
import time
import uuid

import pytest
import pytest_timeout

from tests.helpers import ROOT, TAG_VAR, tagged_processes

# Subprocesses run `python -m pinkclinic` from this checkout, whatever is installed.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p)


def pytest_sessionstart(session):
    """Compile pinkclinic's modules to bytecode once, as pip does for an installed package.

    The suite starts ``python -m pinkclinic`` (and its load workers) hundreds of times;
    with PYTHONDONTWRITEBYTECODE set, as on the machines this suite runs on, each of those
    would compile every module it imports again (~0.3 s a start). Python still reads
    ``__pycache__`` (ignored by git) then, and checks each file against its source."""
    compileall.compile_dir(ROOT / "pinkclinic", quiet=1)


ORPHAN_GRACE_S = 5.0
BACKSTOP_S = 60.0  # after the timeout, the last resort: pytest-timeout's dump and os._exit


class TimedOut(SystemExit):
    """A test ran past its timeout. A ``SystemExit``, because uvloop's callbacks log and
    swallow every other exception a signal handler raises: pytest-timeout's own
    ``pytest.fail()`` from SIGALRM, while ``run_load`` waits in uvloop's epoll, is lost and
    the test hangs for good. A SystemExit leaves ``run_until_complete``, and pytest reports
    it as this test's failure and goes on with the next."""


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item, settings):
    if settings.method != "signal" or threading.current_thread() is not threading.main_thread():
        return None  # pytest-timeout's own timer

    def on_alarm(signum, frame):
        sys.stderr.write(f"\n+++ Timeout ({settings.timeout:g}s): {item.nodeid}; the threads:\n")
        faulthandler.dump_traceback(all_threads=True)
        raise TimedOut(f"Timeout ({settings.timeout:g}s): the test ran past its limit")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, settings.timeout)
    # if even that cannot stop it (a C call that never returns to Python), end the session
    backstop = threading.Timer(settings.timeout + BACKSTOP_S, pytest_timeout.timeout_timer,
                               (item, settings))
    backstop.daemon = True
    backstop.start()
    item.stash[_TIMER] = (old, backstop)
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_cancel_timer(item):
    timer = item.stash.get(_TIMER, None)
    if timer is None:
        return None
    old, backstop = timer
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, old)
    backstop.cancel()
    del item.stash[_TIMER]
    return True


_TIMER = pytest.StashKey[tuple]()


@pytest.fixture(autouse=True, scope="module")
def one_browser_per_module():
    """The browser tests of a module share one chromium, closed when the module ends:
    Playwright's sync API keeps an asyncio loop running on the main thread while it is
    open, and every later ``asyncio.run``/``run_load`` in the same process would fail."""
    yield
    from tests.browser import close_browser

    close_browser()


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
