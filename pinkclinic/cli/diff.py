"""``pinkclinic diff``: the click declarations. The work is in
:mod:`pinkclinic.commands.diff`."""

from __future__ import annotations

import click

FAIL_IF_HELP = ("Exit 1 if NEW crosses this limit (repeatable), by a change larger than the "
                "sampling noise: 'cpu/req(render_report) > +10%', 'cpu/req > 5ms', 'new-issue', "
                "'leak(remember_visit) > 0', 'p99 > +10%', 'p99 > 1s', 'memory > 10MB', "
                "'gc > 5%'. Units: us, ms, s; B, kB, MB, GB, KiB, MiB, GiB (a duration or "
                "size needs its unit); % (bare on gc, stall: %). A limit whose metric is missing exits 3.")


@click.command(context_settings={"help_option_names": ["-h", "--help"],
                                 "max_content_width": 100}, epilog="""\b
Exit codes:
  0    compared; no --fail-if limit crossed
  1    NEW crossed a --fail-if limit by more than the sampling noise
  2    bad input: a missing, empty or newer recording; different kinds or targets
       (without --force); waits recordings (not compared yet); a --fail-if that does
       not parse or whose unit does not fit its metric
  3    a --fail-if limit could not be checked (its metric is not in the diff)""")
@click.argument("base", type=click.Path(), metavar="BASE")
@click.argument("new", type=click.Path(), metavar="NEW")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Where to write the diff page (default: NEW-vs-BASE.pinkclinic-diff.html "
                   "beside NEW).")
@click.option("-j", "--json", "as_json", is_flag=True,
              help="Print the comparison as JSON (sorted keys, schema_version) instead.")
@click.option("--force", is_flag=True,
              help="Compare recordings of different kinds or of different targets anyway.")
@click.option("--fail-if", "fail_if", multiple=True, metavar="'METRIC OP VALUE'", help=FAIL_IF_HELP)
@click.option("--open", "open_report", is_flag=True, help="Open the diff page in a browser.")
def diff(base, new, output, as_json, force, fail_if, open_report) -> int:
    """Compare two recordings (flame, doctor or heap): what got slower, per request.

    \b
    pinkclinic diff .pinkclinic/before.pinkclinic-flame .pinkclinic/after.pinkclinic-flame
    pinkclinic diff before after --json
    pinkclinic diff before after --fail-if "cpu/req(render_report) > +10%"

    CPU is compared per request served (CPU samples in the load window over the 2xx/3xx
    answers), with a 95% interval from the sample counts, widened by their measured
    overdispersion; a change is significant when it is larger than that noise, at
    least 10% and at least 1% of all CPU per request. Without load results on a side, shares of CPU are compared instead.
    """
    from pinkclinic.commands.diff import run_diff

    return run_diff(base, new, output=output, as_json=as_json, force=force, fail_if=fail_if,
                    open_report=open_report)
