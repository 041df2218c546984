"""Exit codes, defined once: what every ``pinkclinic`` command returns.

``PinkError`` carries one of these (``UsageError``: ``EXIT_USAGE``); ``cli.main`` exits
with it. A launched command that cannot run exits 126 or 127, as a shell's would.
"""

from __future__ import annotations

EXIT_OK = 0
# the run failed: no responses, a load worker died, a suite incomplete, the target crashed
EXIT_FAILED = 1
EXIT_LIMIT = 1  # compare: B crossed a --fail-if limit
EXIT_USAGE = 2  # bad options, files, URLs
EXIT_INCOMPLETE = 3  # compare: a run broke, or a limit could not be checked
EXIT_INTERNAL = 70  # a bug of pinkclinic (EX_SOFTWARE)
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM (128 + SIGINT)
