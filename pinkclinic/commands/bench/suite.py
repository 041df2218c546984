"""``pinkclinic bench --suite FILE [URL | -- COMMAND...]``: each endpoint in turn, then one
table: endpoint, req/s, p50, p97.5, p99, errors, the server's CPU and peak RSS."""

from __future__ import annotations

import sys

from pinkclinic import jsonio, redact
from pinkclinic.commands.bench.server import server_for
from pinkclinic.errors import UsageError
from pinkclinic.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from pinkclinic.interrupt import StopSignal
from pinkclinic.load.core.reqfile import parse_header
from pinkclinic.ui.fmt import DASH, fmt_bytes, fmt_count, fmt_ms
from pinkclinic.ui.terminal import console_width, echo, stdout_console, table
from pinkclinic.workflows.suite import SuiteRun, check_suite, run_suite
from pinkclinic.workflows.suite_file import read_suite

# command-line options that override every suite endpoint when given explicitly
OVERRIDABLE = ("connections", "pipelining", "duration", "amount", "timeout", "warmup",
               "workers", "rate", "streams")


def overrides(given: set[str], opts: dict, wf: dict) -> dict:
    """The load options given on the command line, which win over the file's."""
    out = {k: (wf if k in wf else opts)[k] for k in OVERRIDABLE if k in given}
    if "no_correction" in given and opts.get("no_correction"):
        out["correction"] = False
    if wf.get("http2"):
        out["http2"] = True
    return out


def reject_single_request_options(given: set[str], opts: dict, where: str) -> None:
    """-m, -b, -i and --requests describe one request: a suite's or scenario's file does."""
    for name, flag in (("method", "-m/--method"), ("body", "-b/--body"),
                       ("input_file", "-i/--input"), ("requests_file", "--requests")):
        if name in given and opts.get(name) not in (None, ()):
            raise UsageError(f"{flag} does not apply to {where}: set it in the file")


def bench_suite(path: str, url: str | None, command: list[str], given: set[str], opts: dict,
                wf: dict, *, as_json: bool, full_latency: bool, no_progress: bool) -> int:
    suite = read_suite(path)
    reject_single_request_options(given, opts, "--suite")
    ov = overrides(given, opts, wf)
    headers = [parse_header(h) for h in opts.get("headers") or ()]
    check_suite(suite, ov, headers)
    show = not no_progress and sys.stderr.isatty()

    def on_start(i: int, ep, spec) -> None:
        if show:
            what = f"{spec.amount} requests" if spec.amount else f"{spec.duration:g}s"
            echo(f"[{i + 1}/{len(suite.endpoints)}] {ep.name}: {ep.method} {ep.path}, "
                 f"{spec.connections} connections, {what}", err=True)

    with StopSignal() as sig:
        srv = server_for(path, url, suite.url, command, wf, sig.event)
        with srv:
            if show and command:
                echo(f"starting: {' '.join(command)}", err=True)
            if srv.start() is None:
                return EXIT_INTERRUPTED
            run = run_suite(suite, srv, overrides=ov, headers=headers, on_start=on_start)
            srv.close()
            run.ending = srv.ending.as_dict() if srv.ending is not None else None
    if as_json:
        echo(jsonio.dumps(run.to_json(), indent=2))
    else:
        print_suite(run, stdout_console(console_width()))
    if run.interrupted:
        return EXIT_INTERRUPTED
    if run.failed:
        bad = [f"{r.endpoint.name} ({r.status})" for r in run.runs if r.status != "ok"]
        echo(f"pinkclinic: error: suite incomplete: {', '.join(bad)}", err=True)
        return EXIT_FAILED
    return EXIT_OK


# -- the table ---------------------------------------------------------------------------
def fmt_cpu(x: float | None) -> str:
    return DASH if x is None else f"{x:.0f}%"


def fmt_rss(x: int | None) -> str:
    return DASH if x is None else fmt_bytes(x)


def suite_table(run: SuiteRun):
    from rich.text import Text

    t = table("Endpoint", "Req/s", "p50", "p97.5", "p99", "Errors", "CPU %", "Peak RSS",
              wrap_first=True)
    for er in run.runs:
        e, r = er.endpoint, er.result
        plain = e.name in (e.path, f"{e.method} {e.path}")
        # Text, not str: names and paths come from the file, and rich would read "[b]" as markup
        name = Text(f"{e.method} {e.path}" if plain else f"{e.name}  ({e.method} {e.path})")
        if r is None:
            t.add_row(name, *([DASH] * 5), DASH, DASH)
            continue
        lat = [fmt_ms(r.latency_ms(p)) if r.requests else DASH for p in (50, 97.5, 99)]
        t.add_row(name, fmt_count(r.rps), *lat, fmt_count(r.error_count + r.non2xx),
                  fmt_cpu(er.cpu_percent if er.peak_rss else None), fmt_rss(er.peak_rss or None))
    return t


def notes(run: SuiteRun) -> list[str]:
    out = []
    for er in run.runs:
        r = er.result
        if r is not None and (r.error_count or r.non2xx):
            parts = [f"{k} {n}" for k, n in sorted(r.errors.items())]
            if r.non2xx:
                parts.append(f"non-2xx {r.non2xx}")
            out.append(f"{er.endpoint.name}: errors: {', '.join(parts)}")
        if er.status != "ok":
            out.append(f"{er.endpoint.name}: {er.status}: {er.detail}".rstrip(": "))
    return out


def print_suite(run: SuiteRun, console) -> None:
    where = " ".join(redact.argv(run.command)) if run.command else redact.url(run.url or "")
    console.print(f"Suite {run.suite.path} @ {where}", markup=False, highlight=False)
    console.print(suite_table(run))
    total = sum(er.result.requests for er in run.runs if er.result is not None)
    console.print(f"{fmt_count(total)} requests over {sum(1 for r in run.runs if r.result)} "
                  "endpoints. CPU % and Peak RSS: the server's whole process tree during each "
                  "endpoint (100% = one core). Errors include non-2xx.", markup=False,
                  highlight=False, soft_wrap=True)
    for line in notes(run):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
