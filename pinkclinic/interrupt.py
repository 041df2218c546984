"""Ctrl-C and SIGTERM during a run: stop early, then still write everything.

The first signal sets :attr:`StopSignal.event`; every phase watches it and ends
early. What further signals do depends on the command:

* ``StopSignal()`` (doctor, flame, heap): the run goes on to stop the target,
  finish the recording and build the report from what was collected. A second
  signal raises KeyboardInterrupt to skip the analysis; the recording and the
  target's shutdown still happen (they run in ``finally`` blocks).
* ``StopSignal(force_after=3)`` (``pinkclinic bench``): nothing is ever raised
  from the handler, which may run inside an event-loop callback. The second
  signal is ignored (``timeout -s INT`` sends two: one to the process, one to
  its group), so the results so far still print; the third exits at once
  (status 130, one line on stderr, no results) for a user who wants out now.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

from pinkclinic.exits import EXIT_INTERRUPTED


class StopSignal:
    """Install on ``with``; ``event`` may be one the caller already hands to its workers."""

    def __init__(self, event: threading.Event | None = None, *,
                 force_after: int | None = None) -> None:
        self.event = event if event is not None else threading.Event()
        self.reason: str | None = None
        self.count = 0
        self.force_after = force_after
        self._old: dict[int, object] = {}

    def __enter__(self) -> StopSignal:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)  # type: ignore[arg-type]
        self._old.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.reason is None:
            self.reason = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
        self.event.set()
        if self.force_after is None:
            if self.count >= 2:
                raise KeyboardInterrupt
            return
        if self.count >= self.force_after:
            # os._exit: no exception can surface as a traceback from a loop callback;
            # worker processes follow through their parent-death signal
            os.write(2, b"pinkclinic: interrupted again: exiting without the results\n")
            os._exit(EXIT_INTERRUPTED)
        if self.count == 2 and sys.stderr.isatty():
            os.write(2, b"pinkclinic: stopping; once more to exit without the results\n")

    def set(self, reason: str) -> None:
        """Stop for a reason of our own (the target exited, --duration passed)."""
        if self.reason is None:
            self.reason = reason
        self.event.set()

    @property
    def interrupted(self) -> bool:
        return self.count > 0

    def wait(self, timeout: float | None) -> bool:
        return self.event.wait(timeout)
