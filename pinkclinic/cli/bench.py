"""``pinkclinic bench URL``: the load generator on its own, in autocannon's language."""

from __future__ import annotations

import shutil
import sys
import threading

import click

from pinkclinic import jsonio
from pinkclinic.errors import PinkError
from pinkclinic.interrupt import StopSignal
from pinkclinic.load.bench_cli import BenchCommand, dispatch, workflow_options
from pinkclinic.load.core.urls import check_url
from pinkclinic.load.http1.runner import run_load
from pinkclinic.load.options import load_options, spec_from_options
from pinkclinic.load.render import LiveProgress, fmt_bytes, header, print_result
from pinkclinic.load.single_cli import exit_status


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
    handled = dispatch(click.get_current_context(), url, opts, as_json=as_json,
                       full_latency=full_latency, no_progress=no_progress)
    if handled is not None:
        return handled
    server_pid = opts.pop("server_pid", None)
    if server_pid is not None:
        _check_pid(server_pid)
    if "://" not in url:
        url = "http://" + url
    check_url(url)
    spec = spec_from_options(url, opts)
    stop = threading.Event()
    show_progress = not no_progress and sys.stdout.isatty() and sys.stderr.isatty()
    # the second Ctrl-C is ignored until the results are out; a third exits without them
    with StopSignal(stop, force_after=3):
        if not as_json:
            click.echo(header_text(spec))
        with LiveProgress(spec, show_progress) as progress:
            result, server = _run(spec, progress.tick, stop, server_pid)
        if as_json:
            data = result.to_json()
            if server is not None:
                data["server"] = server
            click.echo(jsonio.dumps(data, indent=2))
        else:
            from rich.console import Console

            width = max(shutil.get_terminal_size((120, 24)).columns, 120)
            out = Console(file=sys.stdout, highlight=False, soft_wrap=False, width=width)
            print_result(result, out, full_latency=full_latency)
            if server is not None:
                click.echo(server_line(server))
        return exit_status(result, spec.url, "responses")


def _run(spec, on_tick, stop: threading.Event, pid: int | None):
    """The load; with ``--pid``, the server's whole process tree is sampled meanwhile and
    its CPU % and peak RSS over the load window come back (``None`` without a PID)."""
    if pid is None:
        return run_load(spec, on_tick=on_tick, stop=stop), None
    from pinkclinic.workflows.server import ServerUnderTest
    with ServerUnderTest(url=spec.url, pid=pid, stop=stop) as srv:
        srv.start()
        w = srv.measure(lambda s: run_load(spec, on_tick=on_tick, stop=s))
    return w.value, {**w.server_json(), "pid": pid}


def _check_pid(pid: int) -> None:
    from pinkclinic import procs

    if pid <= 0 or not procs.is_alive(pid):  # any server, Python or not (nginx, a Go binary)
        raise PinkError(f"--pid {pid}: no such process (it is gone, or never existed)", 2)


def server_line(server: dict) -> str:
    cpu, rss = server["cpu_percent"], server["peak_rss"]
    parts = [f"CPU {cpu:.0f}% (100% = one core)" if cpu is not None else "CPU not measured",
             f"peak RSS {fmt_bytes(rss)}" if rss else "peak RSS not measured"]
    died = f"; it died during the load: {server['died']}" if server.get("died") else ""
    return f"server PID {server['pid']} and its children: {', '.join(parts)}{died}"


def header_text(spec) -> str:
    class _R:  # header() reads only .spec
        pass

    r = _R()
    r.spec = spec
    return header(r)


__all__ = ["PinkError", "bench"]
