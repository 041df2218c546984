"""The live progress bar of a load on stderr, with the current req/s and p99."""

from __future__ import annotations

import sys

from pinkclinic.ui.fmt import fmt_count


class LiveProgress:
    """A progress bar on stderr with the current req/s; ``tick`` is an ``on_tick``."""

    def __init__(self, spec, enabled: bool):
        self.enabled = enabled
        self.done = 0
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        total = spec.amount if spec.amount is not None else spec.duration
        self.by_count = spec.amount is not None
        self.progress = Progress(TextColumn("[bold]{task.fields[rps]}"), BarColumn(),
                                 TimeElapsedColumn(), console=Console(file=sys.stderr),
                                 transient=True, refresh_per_second=4)
        self.task = self.progress.add_task("load", total=total,
                                           rps="starting…")

    def __enter__(self) -> LiveProgress:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.progress.stop()

    def tick(self, rec: dict) -> None:
        if not self.enabled:
            return
        self.done += rec["requests"] if self.by_count else rec["dur_s"]
        rps = rec["requests"] / rec["dur_s"] if rec["dur_s"] else 0
        self.progress.update(self.task, completed=self.done,
                             rps=f"{fmt_count(rps)} req/s, p99 {rec['p99_ms']:.2f} ms")
