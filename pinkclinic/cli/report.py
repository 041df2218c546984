"""``pinkclinic report DIR``: re-analyse and re-render any recording."""

from __future__ import annotations

import click

FORMATS = ("html", "json", "text", "speedscope", "collapsed", "pprof")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("recording", type=click.Path(file_okay=True, dir_okay=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True,
              help="html: the report beside the recording. json/text: the diagnosis. "
                   "speedscope/collapsed: the stacks, for speedscope.app or flamegraph.pl. "
                   "pprof: gzipped profile.proto for go tool pprof, Pyroscope, Parca, "
                   "Grafana (default file: beside the recording, NAME.pinkclinic-KIND.pb.gz).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), metavar="FILE",
              help="Where to write (default: beside the recording for html, stdout otherwise).")
@click.option("--open", "open_report", is_flag=True, help="Open the HTML report in a browser.")
@click.option("--lines/--no-lines", default=None,
              help="Flame graphs: key frames by line, not by function and file (default: as "
                   "recorded).")
@click.option("--idle/--no-idle", default=None,
              help="Flame recordings: show (html) or export the waiting samples too (default: "
                   "as recorded: with them for flame --idle and pyinstrument, else without).")
def report(recording: str, fmt: str, output: str | None, open_report: bool,
           lines: bool | None, idle: bool | None) -> int:
    """Re-analyse and re-render a recording (doctor, flame or heap).

    \b
    pinkclinic report .pinkclinic/4242.pinkclinic-doctor
    pinkclinic report .pinkclinic/4242.pinkclinic-flame --format speedscope -o profile.json
    """
    from pinkclinic.commands.report import run_report

    return run_report(recording, fmt, output, open_report, lines, idle=idle)
