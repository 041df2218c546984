"""The collector interface the session drives.

A collector starts at one of two moments, right after launch (a psutil sampler
must see start-up) or once the target listens (py-spy needs a loaded
interpreter), and stops before the target is stopped (py-spy must detach from
a live process) or after (a sampler sees the shutdown). ``missing`` lists the
signals it could not provide, for the report's "signals not available" line.
"""

from __future__ import annotations

from pinkclinic.recording import Recording


class Collector:
    name = "collector"
    start_when = "listening"      # "launched" | "listening"
    stop_when = "before-stop"     # "before-stop" | "after-stop"

    def __init__(self) -> None:
        self.missing: list[str] = []
        self.notes: list[str] = []

    def start(self, rec: Recording, target) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def stop(self, rec: Recording) -> None:  # pragma: no cover - interface
        raise NotImplementedError
