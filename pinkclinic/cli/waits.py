"""``pinkclinic waits``: the click layer. The work is in pinkclinic.commands.waits."""

from __future__ import annotations

import click

from pinkclinic.cli.common import build_options, session_options


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@session_options
@click.option("--sample-interval", type=float, default=10.0, show_default=True, metavar="MS",
              help="How often CPU, memory, threads and fds are sampled.")
@click.option("-j", "--json", "as_json", is_flag=True,
              help="Print waits.json (the sites, by share) instead of the summary.")
def waits(as_json: bool, **params) -> int:
    """Where requests wait: on a backend's socket, a pool, a lock, an executor, a sleep.

    \b
    pinkclinic waits -- python app.py
    pinkclinic waits --load "-c 20 -d 10 /orders" -- uvicorn app:app

    Snapshots every asyncio task's await chain under load, then names each wait site
    (the user's function, file:line), what it waits on, its share of request time and
    how many tasks wait there at once. Writes DEST/NAME.pinkclinic-waits/ (the recording,
    waits.json, diagnosis.json) and DEST/NAME.pinkclinic-waits.html.
    """
    from pinkclinic.commands.waits import run_waits

    return run_waits(build_options("waits", params), as_json=as_json)
