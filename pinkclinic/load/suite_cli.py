"""``pinkclinic bench --suite FILE [URL | -- COMMAND...]``."""

from __future__ import annotations

import sys

import click

from pinkclinic import jsonio
from pinkclinic.errors import UsageError
from pinkclinic.load.bench_cli import given, overrides
from pinkclinic.load.core.urls import check_base
from pinkclinic.load.options import parse_header
from pinkclinic.workflows.server import ServerUnderTest
from pinkclinic.workflows.suite import check_suite, run_suite
from pinkclinic.workflows.suite_file import read_suite

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def server_for(path: str, url: str | None, file_url: str | None, command: list[str],
               wf: dict, stop, schemes: tuple[str, ...] = ("http", "https")) -> ServerUnderTest:
    """The server of a suite or scenario: a command after --, else a URL (argument or file),
    whose path is a prefix of every path in the file."""
    if url and command:
        raise UsageError("give either a URL or a server command after --, not both")
    base = url or (None if command else file_url)
    if not command and not base:
        raise UsageError(f"{path}: no server to load: give a URL, a `url:` in the file, "
                         "or a command to start after --")
    if base and "://" not in base:
        base = "http://" + base
    if base:
        check_base(base, schemes)
    if wf.get("server_pid") is not None and command:
        raise UsageError("--pid is for a server already running, not with a command after --")
    if wf.get("server_port") is not None and not command:
        raise UsageError("--port applies with a command after --; put the port in the URL")
    return ServerUnderTest(command=command or None, url=base if not command else None,
                           pid=wf.get("server_pid"), port=wf.get("server_port"),
                           start_timeout=wf["start_timeout"], stop_timeout=wf["stop_timeout"],
                           stop=stop)


def reject_single_request_options(ctx: click.Context, opts: dict, where: str) -> None:
    for name, flag in (("method", "-m/--method"), ("body", "-b/--body"),
                       ("input_file", "-i/--input"), ("requests_file", "--requests")):
        if given(ctx, name) and opts.get(name) not in (None, ()):
            raise UsageError(f"{flag} does not apply to {where}: set it in the file")


def suite_main(path: str, url: str | None, command: list[str], ctx: click.Context, opts: dict,
               wf: dict, *, as_json: bool, full_latency: bool, no_progress: bool) -> int:
    from rich.console import Console

    from pinkclinic.interrupt import StopSignal
    from pinkclinic.load.suite_render import print_suite

    suite = read_suite(path)
    reject_single_request_options(ctx, opts, "--suite")
    ov = overrides(ctx, opts, wf)
    headers = [parse_header(h) for h in opts.get("headers") or ()]
    check_suite(suite, ov, headers)
    show = not no_progress and sys.stderr.isatty()

    def on_start(i: int, ep, spec) -> None:
        if show:
            what = f"{spec.amount} requests" if spec.amount else f"{spec.duration:g}s"
            click.echo(f"[{i + 1}/{len(suite.endpoints)}] {ep.name}: {ep.method} {ep.path}, "
                       f"{spec.connections} connections, {what}", err=True)

    with StopSignal() as sig:
        srv = server_for(path, url, suite.url, command, wf, sig.event)
        with srv:
            if show and command:
                click.echo(f"starting: {' '.join(command)}", err=True)
            if srv.start() is None:
                return EXIT_INTERRUPTED
            run = run_suite(suite, srv, overrides=ov, headers=headers, on_start=on_start)
            srv.close()
            run.ending = srv.ending.as_dict() if srv.ending is not None else None
    if as_json:
        click.echo(jsonio.dumps(run.to_json(), indent=2))
    else:
        print_suite(run, Console(file=sys.stdout, highlight=False, soft_wrap=False,
                                 width=max(120, Console().width)))
    if run.interrupted:
        return EXIT_INTERRUPTED
    if run.failed:
        bad = [f"{r.endpoint.name} ({r.status})" for r in run.runs if r.status != "ok"]
        click.echo(f"pinkclinic: error: suite incomplete: {', '.join(bad)}", err=True)
        return EXIT_FAILED
    return 0
