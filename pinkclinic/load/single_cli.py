"""One load run from the command line for the protocols beyond HTTP/1.1 (ws, h2): Ctrl-C
gives the results so far, a live progress bar on a terminal, tables or ``--json``."""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Callable

import click
from rich.console import Console

from pinkclinic import jsonio
from pinkclinic.interrupt import StopSignal
from pinkclinic.load.core.result import LoadResult
from pinkclinic.load.render import LiveProgress, header, print_result

EXIT_FAILED = 1  # no responses, or a load worker died
EXIT_INTERRUPTED = 130


class _Head:
    def __init__(self, spec):
        self.spec = spec


def run_single(spec, run: Callable, *, as_json: bool, full_latency: bool, no_progress: bool,
               to_json: Callable[[LoadResult], dict] | None = None,
               printer: Callable[[LoadResult, Console], None] | None = None,
               unit: str = "requests") -> int:
    stop = threading.Event()
    out = Console(file=sys.stdout, highlight=False, soft_wrap=False,
                  width=max(shutil.get_terminal_size((120, 24)).columns, 120))
    show = not no_progress and sys.stdout.isatty() and sys.stderr.isatty()
    if not as_json:
        text = header(_Head(spec))
        if getattr(spec, "protocol", None) == "h2":
            how = "TLS with ALPN" if spec.tls else "h2c, prior knowledge"
            text = text.rstrip("\n") + f", HTTP/2 ({how}), {spec.streams} streams per connection\n"
        out.print(text, highlight=False, markup=False)

    with StopSignal(stop, force_after=3):  # see pinkclinic.interrupt: results always print
        with LiveProgress(spec, show) as progress:
            result = run(spec, on_tick=progress.tick, stop=stop)
        if as_json:
            click.echo(jsonio.dumps((to_json or LoadResult.to_json)(result), indent=2))
        elif printer is not None:
            printer(result, out)
        else:
            print_result(result, out, full_latency=full_latency)
        return exit_status(result, spec.url, unit)


def exit_status(result: LoadResult, url: str, unit: str = "requests") -> int:
    """1 if a load worker died or nothing answered; 130 if interrupted (with or without
    responses); else 0. The error, if any, is one line on stderr (results printed first)."""
    if result.worker_failures:
        click.echo(f"pinkclinic: error: {'; '.join(result.worker_failures)}", err=True)
        return EXIT_FAILED
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.requests == 0:
        kinds = [f"{n} {k}" for k, n in sorted(result.errors.items())]
        if result.inflight:
            kinds.append(f"{result.inflight} in flight")
        if result.connecting:
            kinds.append(f"{result.connecting} still connecting")
        click.echo(f"pinkclinic: error: no {unit} from {url} ({', '.join(kinds) or 'no answer'})",
                   err=True)
        return EXIT_FAILED
    return 0
