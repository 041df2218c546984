"""What a run shows while it works: its phases, and live req/s during the load.

On a terminal, a rich spinner line shows the current phase; otherwise each
phase is one plain line on stderr (CI logs stay readable). Results go to
stdout, progress to stderr, so `--json`-style output can be piped.
"""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.markup import escape


class Phases:
    def __init__(self, kind: str, *, quiet: bool = False):
        self.kind = kind
        self.console = Console(stderr=True, highlight=False)
        self.live = self.console.is_terminal and not quiet
        self.quiet = quiet
        self._status = None
        self._phase = ""
        self._t0 = time.monotonic()

    def __enter__(self) -> Phases:
        if self.live:
            self._status = self.console.status("", spinner="dots")
            self._status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def phase(self, text: str) -> None:
        self._phase = text
        if self._status is not None:
            self._status.update(f"[bold magenta]{self.kind}[/] {escape(text)}")
        elif not self.quiet:
            print(f"pinkclinic {self.kind}: {text}", file=sys.stderr, flush=True)

    def progress(self, text: str) -> None:
        """A live detail of the current phase (only shown on a terminal)."""
        if self._status is not None:
            self._status.update(f"[bold magenta]{self.kind}[/] {escape(self._phase)} · {escape(text)}")

    def note(self, text: str) -> None:
        """A line that stays (a warning, a missing signal)."""
        if not self.quiet:
            self.console.print(f"[yellow]pinkclinic {self.kind}:[/] {escape(text)}", markup=True,
                               highlight=False, soft_wrap=True)
