"""What ``pinkclinic bench`` does beyond one HTTP/1.1 URL: suites, scenarios, WebSocket
and HTTP/2. ``pinkclinic.cli.bench`` adds :func:`workflow_options` and calls
:func:`dispatch` first; ``dispatch`` returns ``None`` for a plain HTTP/1.1 run.

``BenchCommand`` splits the command line at ``--``: what follows is the server
command to start (``bench --suite s.yaml -- python app.py``), never a URL.
"""

from __future__ import annotations

import click
from click.core import ParameterSource

from pinkclinic.errors import UsageError

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
WORKFLOW_KEYS = ("suite_file", "scenario_file", "http2", "streams", "messages", "per_connection",
                 "on_connect", "max_size", "server_port", "server_pid", "start_timeout",
                 "stop_timeout")
WS_KEYS = ("messages", "per_connection", "on_connect")
# command-line options that override every suite endpoint when given explicitly
OVERRIDABLE = ("connections", "pipelining", "duration", "amount", "timeout", "warmup",
               "workers", "rate", "streams")


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


def given(ctx: click.Context, name: str) -> bool:
    src = ctx.get_parameter_source(name)
    return src in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def overrides(ctx: click.Context, opts: dict, wf: dict) -> dict:
    out = {k: (wf if k in wf else opts)[k] for k in OVERRIDABLE if given(ctx, k)}
    if given(ctx, "no_correction") and opts.get("no_correction"):
        out["correction"] = False
    if wf.get("http2"):
        out["http2"] = True
    return out


def dispatch(ctx: click.Context, url: str | None, opts: dict, *, as_json: bool,
             full_latency: bool, no_progress: bool) -> int | None:
    """Run a workflow and return the exit code, or ``None`` for plain HTTP/1.1 ``bench``.
    Pops the workflow options from ``opts``."""
    wf = {k: opts.pop(k) for k in WORKFLOW_KEYS}
    command = ctx.meta.get(COMMAND_KEY) or []
    out = {"as_json": as_json, "full_latency": full_latency, "no_progress": no_progress}
    if wf["suite_file"] and wf["scenario_file"]:
        raise UsageError("give either --suite or --scenario, not both")
    if wf["suite_file"]:
        from pinkclinic.load.suite_cli import suite_main

        return suite_main(wf["suite_file"], url, command, ctx, opts, wf, **out)
    if wf["scenario_file"]:
        from pinkclinic.load.scenario_cli import scenario_main

        return scenario_main(wf["scenario_file"], url, command, ctx, opts, wf, **out)
    if command:
        raise UsageError("a server command after -- needs --suite or --scenario "
                         "(or use `pinkclinic doctor -- COMMAND`)")
    if url is None:
        raise UsageError("missing URL (or --suite FILE / --scenario FILE)")
    for name in ("server_port", "start_timeout", "stop_timeout"):
        if given(ctx, name):
            flag = "--port" if name == "server_port" else "--" + name.replace("_", "-")
            raise UsageError(f"{flag} applies only with --suite or --scenario and -- COMMAND")
    if wf["server_pid"] is not None and (wf["http2"] or url.startswith(("ws://", "wss://"))):
        raise UsageError("--pid applies to HTTP/1.1 runs and suites (not --http2 or ws://)")
    opts["server_pid"] = wf["server_pid"]  # a plain run samples that server: cli.bench
    if url.startswith(("ws://", "wss://")):
        from pinkclinic.load.ws_cli import ws_main

        opts.pop("server_pid")
        return ws_main(url, opts, wf, **out)
    used = [k for k in WS_KEYS if wf[k]]
    if used:
        raise UsageError(f"--{used[0].replace('_', '-').rstrip('s')} applies only to ws:// URLs")
    if wf["http2"]:
        from pinkclinic.load.http2_cli import h2_main

        opts.pop("server_pid")
        return h2_main(url, opts, wf, **out)
    if wf["streams"] is not None:
        raise UsageError("--streams applies only with --http2")
    return None
