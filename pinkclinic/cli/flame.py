"""``pinkclinic flame``: the click layer. The work is in pinkclinic.commands.flame."""

from __future__ import annotations

import click

from pinkclinic.cli.common import build_options, session_options


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@session_options
@click.option("--rate", type=click.IntRange(1, 1000), default=100, show_default=True, metavar="HZ",
              help="py-spy samples per second.")
@click.option("--native", is_flag=True,
              help="Include C/C++ frames (py-spy --native). py-spy then pauses the target for "
                   "each sample (it cannot read native stacks without), which slows the "
                   "server down.")
@click.option("--idle", is_flag=True,
              help="Record waiting time too (py-spy --idle): a wall-clock view. Without it "
                   "py-spy keeps only threads that are running on a CPU.")
@click.option("--lines", is_flag=True,
              help="Key frames by line, not by function and file (one block per line).")
@click.option("--profiler", type=click.Choice(["py-spy", "pyinstrument"]), default="py-spy",
              show_default=True,
              help="py-spy samples every thread from outside; pyinstrument runs inside the "
                   "target and gives an async-aware wall-clock view of the main thread.")
def flame(**params) -> int:
    """CPU flame graph of a Python server under load.

    \b
    pinkclinic flame -- python app.py
    pinkclinic flame --idle --load "-c 50 -d 20 /search?q=[<id>]" -- uvicorn app:app
    pinkclinic flame --pid 4242 --duration 15

    Writes DEST/NAME.pinkclinic-flame/ and DEST/NAME.pinkclinic-flame.html.
    """
    from pinkclinic.commands.flame import run_flame

    return run_flame(build_options("flame", params))
