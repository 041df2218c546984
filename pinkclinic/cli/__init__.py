"""The ``pinkclinic`` command line: a thin click layer over plain functions.

Sub-commands are listed as import strings and loaded only when used, so
``pinkclinic bench`` never imports memray and ``--help`` stays fast. Every
error is caught once, in :func:`main`, and printed as one line.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from pinkclinic import __version__
from pinkclinic.errors import PinkError
from pinkclinic.exits import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE

# name -> "module:attribute". A command whose module is missing is not listed.
COMMANDS: dict[str, str] = {
    "doctor": "pinkclinic.cli.doctor:doctor",
    "flame": "pinkclinic.cli.flame:flame",
    "heap": "pinkclinic.cli.heap:heap",
    "waits": "pinkclinic.cli.waits:waits",
    "bench": "pinkclinic.cli.bench:bench",
    "compare": "pinkclinic.cli.compare:compare",
    "diff": "pinkclinic.cli.diff:diff",
    "report": "pinkclinic.cli.report:report",
}


def _load(name: str) -> click.Command | None:
    target = COMMANDS.get(name)
    if target is None:
        return None
    module, _, attr = target.partition(":")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name == module:  # this command is not built (yet)
            return None
        raise
    return getattr(mod, attr)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if _load(name) is not None]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return _load(name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="pinkclinic")
def cli() -> None:
    """Profile and diagnose Python servers under load.

    \b
    pinkclinic doctor -- python server.py   diagnose: what is wrong, and which function
    pinkclinic flame  -- python server.py   CPU flame graph under load (py-spy)
    pinkclinic heap   -- python server.py   allocation flame graph and leak suspects (memray)
    pinkclinic waits  -- python server.py   where requests wait: backend, pool, lock, executor
    pinkclinic bench  http://127.0.0.1:8000/  the load generator on its own
    """


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script and of ``python -m pinkclinic``."""
    prog = "pinkclinic"
    try:
        rv = cli.main(args=argv, prog_name=prog, standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except click.exceptions.NoArgsIsHelpError as e:  # click >= 8.2
        click.echo(e.ctx.get_help() if e.ctx else str(e))
        code = EXIT_USAGE
    except click.UsageError as e:
        where = e.ctx.command_path if e.ctx else prog
        hint = f" (see '{where} --help')" if e.ctx else ""
        click.echo(f"{where}: error: {_one_line(e.format_message())}{hint}", err=True)
        code = EXIT_USAGE
    except click.ClickException as e:
        click.echo(f"{prog}: error: {_one_line(e.format_message())}", err=True)
        code = e.exit_code
    except PinkError as e:
        click.echo(f"{prog}: error: {e.message}", err=True)
        code = e.exit_code
    except (KeyboardInterrupt, click.Abort):
        click.echo(f"{prog}: interrupted", err=True)
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        # stdout went away (e.g. `| head`): exit quietly, and stop Python's own complaint.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 1
    except Exception as e:  # last line of defence: never a traceback by default
        if os.environ.get("PINKCLINIC_DEBUG"):
            raise
        click.echo(f"{prog}: internal error: {type(e).__name__}: {_one_line(e)} "
                   "(set PINKCLINIC_DEBUG=1 to see the traceback)", err=True)
        code = EXIT_INTERNAL
    sys.exit(code)
