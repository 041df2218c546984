"""Out-of-process collectors: they read the target from outside, with no injection.

* :mod:`pinkclinic.collect.psutil_sampler`: CPU, memory, threads, fds and context
  switches for every process of the tree, every sample interval (``processes.jsonl``);
* :mod:`pinkclinic.collect.pyspy`: py-spy stack samples over the tree
  (``pyspy.speedscope.json``).

A collector that cannot run (tool missing, ptrace not permitted) raises
:class:`CollectorUnavailable`; the caller records ``signal`` in
``diagnosis.signals_missing`` and carries on.
"""

from __future__ import annotations

from pinkclinic.errors import PinkError


class CollectorUnavailable(PinkError):
    """A collector could not run. ``signal`` names what the recording will miss."""

    def __init__(self, message: str, signal: str):
        super().__init__(message)
        self.signal = signal


__all__ = ["CollectorUnavailable"]
