"""The load options, declared once: ``pinkclinic bench`` puts them on its command line,
and :mod:`pinkclinic.loadargs.parse` reads doctor's and compare's ``--load`` words with them.

They speak autocannon's language: ``-c -p -d -a -t -m -H -b -i -w -R``.
"""

from __future__ import annotations

import click

from pinkclinic.loadargs.types import RATE, SECONDS, SECONDS_OR_ZERO

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


def load_options(f):
    for opt in reversed(LOAD_OPTIONS):
        f = opt(f)
    return f
