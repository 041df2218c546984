"""``pinkclinic heap``: the click layer. The work is in pinkclinic.commands.heap."""

from __future__ import annotations

import click

from pinkclinic.cli.common import build_options, session_options


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@session_options
@click.option("--native", is_flag=True, help="Record C/C++ frames of each allocation too.")
@click.option("--follow-fork/--no-follow-fork", default=True, show_default=True,
              help="Also track processes the target forks (gunicorn workers); with --pid, "
                   "the workers that already run are attached too.")
def heap(**params) -> int:
    """Allocation flame graph and leak suspects, priced in bytes per request (memray).

    \b
    pinkclinic heap -- python app.py
    pinkclinic heap -- gunicorn -w 2 app:app          (workers are tracked too)
    pinkclinic heap --pid 4242 --load "-c 20 -d 20"     (needs gdb; the target must import memray)

    Writes DEST/NAME.pinkclinic-heap/ and DEST/NAME.pinkclinic-heap.html.
    """
    from pinkclinic.commands.heap import run_heap

    return run_heap(build_options("heap", params))
