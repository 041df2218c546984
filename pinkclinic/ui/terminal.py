"""Where results go: the stdout console (rich), its tables, and one-line messages.

rich is imported only when a table or console is made, so ``--json`` starts faster.
"""

from __future__ import annotations

import shutil
import sys


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """One line (or block) of text on stdout or stderr, flushed at once so that it keeps
    its place between the results and the error line that may follow them."""
    print(text, end="\n" if nl else "", file=sys.stderr if err else sys.stdout, flush=True)


def terminal_width(minimum: int = 120) -> int:
    """stdout's terminal width (or ``$COLUMNS``), at least ``minimum``: bench's single runs."""
    return max(shutil.get_terminal_size((minimum, 24)).columns, minimum)


def console_width(minimum: int = 120) -> int:
    """rich's guess of the width (the first of stdin, stdout and stderr that is a terminal,
    or ``$COLUMNS``), at least ``minimum``: suites' and scenarios' tables."""
    from rich.console import Console

    return max(minimum, Console().width)


def stdout_console(width: int | None = None):
    """A rich console on stdout: no highlighting, no markup guessing in tables' text, lines
    never soft-wrapped. ``width`` ``None``: rich's own guess of the terminal's width."""
    from rich.console import Console

    return Console(file=sys.stdout, highlight=False, soft_wrap=False, width=width)


def table(*cols: str, wrap_first: bool = False):
    """A boxed table: the first column left-aligned (the names; wrapped if too long with
    ``wrap_first``), the others right-aligned and never wrapped."""
    from rich import box
    from rich.table import Table

    t = Table(box=box.SQUARE, header_style="bold")
    for i, c in enumerate(cols):
        t.add_column(c, justify="left" if i == 0 else "right", no_wrap=i > 0 or not wrap_first)
    return t
