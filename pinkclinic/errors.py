"""The one error type that reaches the user.

Anything the user can cause (bad input, a target that will not start, a PID
that is gone) is raised as :class:`PinkError`. ``pinkclinic.cli.main`` catches
it once, prints ``pinkclinic: error: <message>`` on one line and exits with
``exit_code``. Nothing else should print a traceback.
"""

from __future__ import annotations

from pinkclinic.exits import EXIT_FAILED, EXIT_USAGE


class PinkError(Exception):
    """A user-facing failure: one line of text and an exit code."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        self.message = " ".join(str(message).split())  # always one line
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class UsageError(PinkError):
    """Invalid option, argument, URL or input file (exit code 2)."""

    exit_code = EXIT_USAGE
