"""One load run on the terminal, for every protocol (HTTP/1.1, ``--http2``, ``ws://``):
the header, a live progress bar on a terminal, then tables or ``--json``, and the exit
status. Ctrl-C gives the results so far; a third Ctrl-C exits without them."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from pinkclinic import jsonio
from pinkclinic.commands.bench.tables import header, print_result
from pinkclinic.errors import PinkError
from pinkclinic.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from pinkclinic.interrupt import StopSignal
from pinkclinic.load.core.result import LoadResult
from pinkclinic.load.core.urls import check_url
from pinkclinic.load.http1.runner import run_load
from pinkclinic.loadargs import spec_from_options
from pinkclinic.ui.fmt import fmt_bytes
from pinkclinic.ui.progress import LiveProgress
from pinkclinic.ui.terminal import echo, stdout_console, terminal_width


def run_single(spec, run: Callable, *, as_json: bool, full_latency: bool, no_progress: bool,
               to_json: Callable[[LoadResult], dict] = LoadResult.to_json,
               printer: Callable[[LoadResult, object], None] | None = None,
               unit: str = "requests") -> int:
    """Run ``run(spec, on_tick=, stop=)`` and print its result; the exit status."""
    stop = threading.Event()
    show = not no_progress and sys.stdout.isatty() and sys.stderr.isatty()
    # the second Ctrl-C is ignored until the results are out; a third exits without them
    with StopSignal(stop, force_after=3):  # see pinkclinic.interrupt: results always print
        if not as_json:
            echo(header(spec))
        with LiveProgress(spec, show) as progress:
            result = run(spec, on_tick=progress.tick, stop=stop)
        if as_json:
            echo(jsonio.dumps(to_json(result), indent=2))
        else:
            out = stdout_console(terminal_width())
            if printer is not None:
                printer(result, out)
            else:
                print_result(result, out, full_latency=full_latency)
        return exit_status(result, spec.url, unit)


def exit_status(result: LoadResult, url: str, unit: str = "requests") -> int:
    """1 if a load worker died or nothing answered; 130 if interrupted (with or without
    responses); else 0. The error, if any, is one line on stderr (results printed first)."""
    if result.worker_failures:
        echo(f"pinkclinic: error: {'; '.join(result.worker_failures)}", err=True)
        return EXIT_FAILED
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.requests == 0:
        kinds = [f"{n} {k}" for k, n in sorted(result.errors.items())]
        if result.inflight:
            kinds.append(f"{result.inflight} in flight")
        if result.connecting:
            kinds.append(f"{result.connecting} still connecting")
        echo(f"pinkclinic: error: no {unit} from {url} ({', '.join(kinds) or 'no answer'})",
             err=True)
        return EXIT_FAILED
    return EXIT_OK


# -- HTTP/1.1 --------------------------------------------------------------------------
def bench_http1(url: str, opts: dict, server_pid: int | None, *, as_json: bool,
                full_latency: bool, no_progress: bool) -> int:
    """``pinkclinic bench URL``; with ``--pid``, the server's CPU and memory too."""
    if server_pid is not None:
        _check_pid(server_pid)
    if "://" not in url:
        url = "http://" + url
    check_url(url)
    spec = spec_from_options(url, opts)
    if server_pid is None:
        return run_single(spec, run_load, as_json=as_json, full_latency=full_latency,
                          no_progress=no_progress, unit="responses")
    server: dict = {}

    def run(spec, on_tick, stop) -> LoadResult:
        from pinkclinic.workflows.server import ServerUnderTest  # psutil: only with --pid

        with ServerUnderTest(url=spec.url, pid=server_pid, stop=stop) as srv:
            srv.start()
            w = srv.measure(lambda s: run_load(spec, on_tick=on_tick, stop=s))
        server.update(w.server_json(), pid=server_pid)
        return w.value

    def printer(result: LoadResult, console) -> None:
        print_result(result, console, full_latency=full_latency)
        echo(server_line(server))

    return run_single(spec, run, as_json=as_json, full_latency=full_latency,
                      no_progress=no_progress, unit="responses",
                      to_json=lambda r: {**r.to_json(), "server": server}, printer=printer)


def _check_pid(pid: int) -> None:
    from pinkclinic import procs  # psutil: only with --pid

    if pid <= 0 or not procs.is_alive(pid):  # any server, Python or not (nginx, a Go binary)
        raise PinkError(f"--pid {pid}: no such process (it is gone, or never existed)", EXIT_USAGE)


def server_line(server: dict) -> str:
    """The ``--pid`` server's CPU and peak RSS over the load window, in one line."""
    cpu, rss = server["cpu_percent"], server["peak_rss"]
    parts = [f"CPU {cpu:.0f}% (100% = one core)" if cpu is not None else "CPU not measured",
             f"peak RSS {fmt_bytes(rss)}" if rss else "peak RSS not measured"]
    died = f"; it died during the load: {server['died']}" if server.get("died") else ""
    return f"server PID {server['pid']} and its children: {', '.join(parts)}{died}"
