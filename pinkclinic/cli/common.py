"""Click options shared by doctor, flame and heap (launch, load, output, attach)."""

from __future__ import annotations

import click

from pinkclinic.session.options import DEFAULT_LOAD, SessionOptions

_OPTIONS = [
    click.option("--load", metavar="'BENCH-OPTIONS'",
                 help=f"Load to drive, as `pinkclinic bench` options; the last word is the path "
                      f"(default: '{DEFAULT_LOAD} /'). Host and port come from the detected port."),
    click.option("--on-port", metavar="'CMD'",
                 help="Run CMD once the server listens, with $PORT set; the run ends when CMD exits."),
    click.option("--no-load", is_flag=True,
                 help="Drive no load: record until Ctrl-C or until the target exits."),
    click.option("--dest", default=".pinkclinic", show_default=True, metavar="DIR",
                 help="Where the recording and the report go."),
    click.option("--name", metavar="NAME", help="Name of the recording (default: the target's PID)."),
    click.option("--open", "open_report", is_flag=True, help="Open the report in a browser."),
    click.option("--collect-only", is_flag=True,
                 help="Stop after writing the recording; `pinkclinic report DIR` analyses it later."),
    click.option("--pid", type=int, metavar="PID",
                 help="Attach to a running server instead of launching one (doctor, waits and heap inject "
                      "their probe through sys.remote_exec, hypno or gdb; PINKCLINIC_INJECT=remote_exec|hypno|gdb "
                      "forces one)."),
    click.option("--url", metavar="URL", help="With --pid: where to send the load (default: the detected port)."),
    click.option("--duration", type=float, metavar="S",
                 help="Record for S seconds without driving load (implies --no-load), e.g. a "
                      "live --pid serving real traffic."),
    click.option("--port", type=int, metavar="N", help="The server's port: skips port detection."),
    click.option("--start-timeout", type=float, default=30.0, show_default=True, metavar="S",
                 help="How long to wait for the server to listen."),
    click.option("--baseline", type=click.Path(), metavar="DIR",
                 help="After the run, compare it with this earlier recording of the same kind "
                      "(pinkclinic diff): print the summary and write the diff page."),
    click.option("--fail-if", "fail_if", multiple=True, metavar="'METRIC OP VALUE'",
                 help="With --baseline: exit 1 if this run crosses the limit by more than the "
                      "noise, e.g. 'cpu/req(render_report) > +10%', 'new-issue', "
                      "'leak(remember_visit) > 0' (see pinkclinic diff --help)."),
    click.option("--stop-timeout", type=float, default=10.0, show_default=True, metavar="S",
                 help="How long to wait for the server to stop before killing it."),
]


def session_options(f):
    """Decorate a click command with the shared options and a trailing COMMAND."""
    f = click.argument("command", nargs=-1, type=click.UNPROCESSED, metavar="[-- COMMAND...]")(f)
    for opt in reversed(_OPTIONS):
        f = opt(f)
    return f


SHARED_KEYS = ("load", "on_port", "no_load", "dest", "name", "open_report", "collect_only", "pid",
               "url", "duration", "port", "start_timeout", "stop_timeout")


def build_options(kind: str, params: dict, **extra) -> SessionOptions:
    shared = {k: params.pop(k) for k in SHARED_KEYS}
    command = list(params.pop("command", ()))
    sample = params.pop("sample_interval", None)
    opts = SessionOptions(kind=kind, command=command, extra={**params, **extra}, **shared)
    if sample is not None:
        opts.sample_interval_ms = sample
    return opts.validate()
