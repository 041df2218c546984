"""The load options, defined once: ``pinkclinic bench`` uses them, and so does
``parse_bench_args`` (doctor's ``--load "..."`` string).

They speak autocannon's language: ``-c -p -d -a -t -m -H -b -i -w -R``.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from pinkclinic.errors import UsageError
from pinkclinic.load.core.reqfile import parse_header, read_steps, templates
from pinkclinic.load.core.spec import LoadSpec
from pinkclinic.load.core.urls import join_url
from pinkclinic.load.optypes import RATE, SECONDS, SECONDS_OR_ZERO

__all__ = ["LOAD_OPTIONS", "load_options", "parse_bench_args", "parse_header", "spec_from_options"]

RATE_HELP = ("Send N requests per second in total, paced evenly across connections. "
             "Latency is then measured from each request's intended send time (wrk2's "
             "method), so a server stall is charged to every request queued behind it.")

LOAD_OPTIONS = [
    click.option("-c", "--connections", type=click.IntRange(1, 100_000), default=10, show_default=True,
                 help="Concurrent connections."),
    click.option("-p", "--pipelining", type=click.IntRange(1, 1000), default=1, show_default=True,
                 help="Requests in flight per connection."),
    click.option("-d", "--duration", type=SECONDS, default=10.0, show_default=True,
                 help="Seconds of load (also 10s, 500ms, 1m, 1h)."),
    click.option("-a", "--amount", type=click.IntRange(min=1), default=None,
                 help="Send exactly N requests, instead of running for a duration."),
    click.option("-t", "--timeout", type=SECONDS, default=10.0, show_default=True,
                 help="Seconds before a request (or a connect) counts as a timeout."),
    click.option("-m", "--method", default="GET", show_default=True, help="HTTP method."),
    click.option("-H", "--header", "headers", multiple=True, metavar='"K: V"',
                 help="A request header (repeatable)."),
    click.option("-b", "--body", default=None, help="Request body."),
    click.option("-i", "--input", "input_file", type=click.Path(dir_okay=False), default=None,
                 help="Read the request body from FILE."),
    click.option("--requests", "requests_file", type=click.Path(dir_okay=False), default=None,
                 help="YAML or JSON list of {method, path, headers, body}: each connection "
                      "runs it from the first step, in a cycle. -m, -H, -b and -i are "
                      "defaults for every step. [<id>] in a path, body or header becomes a "
                      "unique id."),
    click.option("--warmup", type=SECONDS_OR_ZERO, default=0.0,
                 help="Seconds of load before measuring (not counted)."),
    click.option("-w", "--workers", type=click.IntRange(min=0), default=0, show_default=True,
                 help="Run the load in N processes (0: in this one); their histograms are "
                      "merged exactly."),
    click.option("-R", "--rate", type=RATE, default=None,
                 help=RATE_HELP),
    click.option("--no-correction", is_flag=True, default=False,
                 help="With --rate, measure raw service time (from the actual send) instead."),
]

LOAD_PARAM_NAMES = ("connections", "pipelining", "duration", "amount", "timeout", "method",
                    "headers", "body", "input_file", "requests_file", "warmup", "workers",
                    "rate", "no_correction")


def load_options(f):
    for opt in reversed(LOAD_OPTIONS):
        f = opt(f)
    return f


def spec_from_options(url: str, o: dict) -> LoadSpec:
    """Build a LoadSpec from the parsed option values (keys: LOAD_PARAM_NAMES)."""
    body = None if o.get("body") is None else o["body"].encode()
    if o.get("input_file"):
        if body is not None:
            raise UsageError("give either --body or --input, not both")
        try:
            body = Path(o["input_file"]).read_bytes()
        except OSError as e:
            raise UsageError(f"cannot read {o['input_file']}: {e.strerror}") from None
    method = o["method"].upper()
    headers = [parse_header(h) for h in o.get("headers") or ()]
    requests = []
    if o.get("requests_file"):  # -m, -H, -b and -i are defaults for every step
        steps = read_steps(o["requests_file"])
        for st in steps:
            join_path(url, st["path"])
        requests = templates(steps, method, headers, body)
    if o.get("no_correction") and o.get("rate") is None:
        raise UsageError("--no-correction only applies with --rate")
    return LoadSpec(
        url=url, connections=o["connections"], pipelining=o["pipelining"],
        duration=o["duration"], amount=o["amount"], timeout=o["timeout"],
        method=method, headers=headers, body=body, requests=requests, warmup=o["warmup"],
        workers=o["workers"], rate=o["rate"], correction=not o.get("no_correction"))


def join_path(url: str, path: str) -> str:
    """A sequence's path is relative to the URL's path prefix only if it is not absolute."""
    if not path.startswith("/"):
        raise UsageError(f"invalid request path {path!r}: must start with /")
    return path


@click.command(context_settings={"help_option_names": []}, add_help_option=False)
@load_options
@click.argument("target", required=False)
def _load_command(**kw):
    return kw


def parse_bench_args(argv: list[str] | str, base_url: str | None = None) -> LoadSpec:
    """``["-c", "50", "-d", "10", "/items?id=[<id>]"]`` -> LoadSpec.

    The last word, if not an option, is a path joined to ``base_url`` (or a
    full URL); ``/`` by default. Bad options raise ``UsageError`` (one line).
    """
    if isinstance(argv, str):
        argv = shlex.split(argv)
    try:
        ctx = _load_command.make_context("--load", list(argv))
    except click.ClickException as e:
        raise UsageError(f"--load: {e.format_message()}") from None
    params = ctx.params
    url = join_url(base_url, params.pop("target"))
    return spec_from_options(url, params)
