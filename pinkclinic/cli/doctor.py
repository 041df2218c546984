"""``pinkclinic doctor``: the click layer. The work is in pinkclinic.commands.doctor."""

from __future__ import annotations

import click

from pinkclinic.cli.common import build_options, session_options


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@session_options
@click.option("--sample-interval", type=float, default=10.0, show_default=True, metavar="MS",
              help="How often CPU, memory, threads and fds are sampled.")
def doctor(**params) -> int:
    """Diagnose a Python server under load: what is wrong, and which function to blame.

    \b
    pinkclinic doctor -- python app.py
    pinkclinic doctor --load "-c 50 -d 10 /items?id=[<id>]" -- uvicorn app:app
    pinkclinic doctor --on-port 'wrk -d 10 http://127.0.0.1:$PORT/' -- gunicorn -w 2 app:app
    pinkclinic doctor --pid 4242

    Writes DEST/NAME.pinkclinic-doctor/ (the recording) and DEST/NAME.pinkclinic-doctor.html.
    """
    from pinkclinic.commands.doctor import run_doctor

    return run_doctor(build_options("doctor", params))
