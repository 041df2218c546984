"""``pinkclinic bench URL``: the click declarations (the load options of
:mod:`pinkclinic.loadargs.options` and bench's own). The work is in
:mod:`pinkclinic.commands.bench`.

``BenchCommand`` splits the command line at ``--``: what follows is the server command to
start (``bench --suite s.yaml -- python app.py``), never a URL.
"""

from __future__ import annotations

import click
from click.core import ParameterSource

from pinkclinic.commands.bench import run_bench
from pinkclinic.loadargs.options import load_options

COMMAND_KEY = "pinkclinic.command"

WORKFLOW_OPTIONS = [
    click.option("--suite", "suite_file", type=click.Path(dir_okay=False), metavar="FILE",
                 help="Run each endpoint of a YAML suite in turn, against URL or against the "
                      "server started by `-- COMMAND`; one table with the server's CPU and RSS."),
    click.option("--scenario", "scenario_file", type=click.Path(dir_okay=False), metavar="FILE",
                 help="Run a phased scenario (artillery's model): virtual users arrive at each "
                      "phase's rate and each runs a flow once."),
    click.option("--http2", is_flag=True, help="HTTP/2: h2c with prior knowledge for http://, "
                                               "TLS with ALPN for https:// (certificates not verified)."),
    click.option("--streams", type=click.IntRange(1, 10_000), default=None,
                 help="With --http2: concurrent streams per connection (default 1)."),
    click.option("--message", "messages", multiple=True, metavar="TEXT|@FILE",
                 help="ws://: a message to send (repeatable, cycled); each waits for one reply "
                      "(its round trip). Without it, only count what the server pushes."),
    click.option("--per-connection", type=click.IntRange(min=1), default=None, metavar="N",
                 help="ws://: send exactly N messages on each connection, instead of a duration."),
    click.option("--on-connect", "on_connect", multiple=True, metavar="TEXT|@FILE",
                 help="ws://: a message sent once after each connect (e.g. a subscription)."),
    click.option("--max-size", type=click.IntRange(min=1), default=1 << 20, show_default=True,
                 metavar="BYTES", help="ws://: a larger incoming message is an error."),
    click.option("--port", "server_port", type=int, default=None, metavar="N",
                 help="With -- COMMAND: the server's port (skips detection)."),
    click.option("--pid", "server_pid", type=int, default=None, metavar="PID",
                 help="With a URL: the running server's PID, to sample its CPU and memory."),
    click.option("--start-timeout", type=float, default=30.0, show_default=True, metavar="S",
                 help="With -- COMMAND: how long to wait for the server to listen."),
    click.option("--stop-timeout", type=float, default=10.0, show_default=True, metavar="S",
                 help="With -- COMMAND: how long to wait for the server to stop."),
]


class BenchCommand(click.Command):
    """Everything after ``--`` is the server's command, kept out of click's parsing."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            i = args.index("--")
            ctx.meta[COMMAND_KEY] = args[i + 1:]
            args = args[:i]
        return super().parse_args(ctx, args)


def workflow_options(f):
    for opt in reversed(WORKFLOW_OPTIONS):
        f = opt(f)
    return f


@click.command(cls=BenchCommand, context_settings={"max_content_width": 100})
@click.argument("url", required=False)
@load_options
@workflow_options
@click.option("-j", "--json", "as_json", is_flag=True, help="Print one JSON object (autocannon's field names).")
@click.option("-l", "--latency", "full_latency", is_flag=True, help="Print the full latency percentile table.")
@click.option("-n", "--no-progress", is_flag=True, help="No live progress bar.")
def bench(url: str, as_json: bool, full_latency: bool, no_progress: bool, **opts) -> int:
    """Load a server over HTTP/1.1 and report latency, throughput and errors.

    \b
    pinkclinic bench http://127.0.0.1:8000/                 10 connections, 10 s
    pinkclinic bench -c 50 -d 30 -l http://127.0.0.1:8000/  full percentile table
    pinkclinic bench -R 2000 http://127.0.0.1:8000/         2,000 req/s, evenly paced

    With -R/--rate, latency is measured from each request's intended send time
    (wrk2's correction for coordinated omission): when the server stalls, every
    request queued behind the stall is charged for the wait. --no-correction
    reports raw service time instead. Without -R, each connection sends its next
    request as soon as the previous response arrives.

    \b
    pinkclinic bench --suite suite.yaml -- python app.py   each endpoint in turn
    pinkclinic bench --scenario flow.yaml http://127.0.0.1:8000   phased arrivals
    pinkclinic bench -c 20 --message hello ws://127.0.0.1:8000/ws  WebSocket round trips
    pinkclinic bench --http2 --streams 10 http://127.0.0.1:8000/   HTTP/2 (h2c)
    """
    ctx = click.get_current_context()
    given = {name for name in opts
             if ctx.get_parameter_source(name) in (ParameterSource.COMMANDLINE,
                                                   ParameterSource.ENVIRONMENT)}
    return run_bench(url, opts, command=ctx.meta.get(COMMAND_KEY) or [], given=given,
                     as_json=as_json, full_latency=full_latency, no_progress=no_progress)
