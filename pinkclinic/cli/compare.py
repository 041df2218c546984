"""``pinkclinic compare``: two servers (or two saved results) side by side."""

from __future__ import annotations

import shlex
import sys

import click

from pinkclinic import jsonio
from pinkclinic.errors import PinkError, UsageError
from pinkclinic.workflows.compare import SINGLE

EXIT_LIMIT = 1  # B crossed a --fail-if limit
EXIT_BROKEN = 3  # a run broke, or a limit could not be checked: the comparison is incomplete
EXIT_INTERRUPTED = 130


@click.command(context_settings={"max_content_width": 100}, epilog="""\b
Exit codes:
  0    compared; no --fail-if limit crossed
  1    B crossed a --fail-if limit (a regression)
  2    bad usage (options, files, URLs)
  3    the comparison is incomplete: a side failed to start, died, answered nothing or
       skipped an endpoint, or a --fail-if metric was not measured; what was measured
       is still printed, the problems under it
  130  interrupted (Ctrl-C); the rounds that completed are compared""")
@click.argument("saved", nargs=-1, metavar="[OLD.json NEW.json]")
@click.option("--a", "a_text", metavar="'CMD'|URL", help="Server A (the baseline): a command to "
              "start, or the URL of a running server.")
@click.option("--b", "b_text", metavar="'CMD'|URL", help="Server B (the candidate).")
@click.option("--load", metavar="'BENCH-OPTIONS'", help="The load, as `pinkclinic bench` options; "
              "the last word is a path, joined under a side's URL (default: '-c 20 -d 10', on "
              "the side's own path, or /). Not a full URL: the servers are --a and --b.")
@click.option("--suite", "suite_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Run this suite (bench --suite) on each side instead of one load.")
@click.option("--rounds", type=click.IntRange(1, 100), default=3, show_default=True,
              help="Rounds per side, alternating A B A B...; medians are reported.")
@click.option("--fail-if", "fail_if", multiple=True, metavar="'METRIC OP VALUE'",
              help="Exit 1 if B crosses this limit (repeatable): 'p99 > +10%' (B's change against "
                   "A), 'rps < -5%', 'p99 > 50ms', 'memory > 200MB', 'cpu > 80%' (of one core), "
                   "'cpu/req > +10%', 'errors > 0'. A limit whose metric was not measured "
                   "exits 3.")
@click.option("--markdown", is_flag=True, help="Print the table as markdown, for a pull request.")
@click.option("-j", "--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--a-pid", type=int, metavar="PID", help="With --a URL: its PID, to sample CPU and memory.")
@click.option("--b-pid", type=int, metavar="PID", help="With --b URL: its PID, to sample CPU and memory.")
@click.option("--start-timeout", type=float, default=30.0, show_default=True, metavar="S",
              help="How long to wait for a started server to listen.")
@click.option("--stop-timeout", type=float, default=10.0, show_default=True, metavar="S",
              help="How long to wait for a server to stop.")
def compare(saved, a_text, b_text, load, suite_file, rounds, fail_if, markdown, as_json, a_pid,
            b_pid, start_timeout, stop_timeout) -> int:
    """Compare two servers under the same load: req/s, latency, memory and CPU.

    \b
    pinkclinic compare --a "python old.py" --b "python new.py" --load "-c 20 -d 10 /"
    pinkclinic compare --a http://127.0.0.1:8000 --b http://127.0.0.1:8001 --suite s.yaml
    pinkclinic compare old.json new.json --fail-if "p99 > +10%" --markdown

    Each round starts A, loads it, stops it, then does the same with B; rounds
    alternate A B A B so that drift on a noisy machine hits both sides, and the
    table shows medians. Improvement is B against A: "+50%" req/s, "40% faster"
    latency, "25% less" memory (peak RSS of the whole process tree) and CPU.
    """
    from rich.console import Console

    from pinkclinic.load.compare_render import markdown as to_markdown
    from pinkclinic.load.compare_render import print_table, rounds_note, spread, to_json
    from pinkclinic.workflows.compare import check_limits, medians, parse_limit
    from pinkclinic.workflows.compare_rounds import Side, read_saved

    limits = [parse_limit(t) for t in fail_if]
    notes: list[str] = []
    interrupted = False
    if saved:
        if len(saved) != 2 or a_text or b_text or load or suite_file:
            raise UsageError("give two saved results (OLD.json NEW.json), or --a and --b")
        a, b = Side("A", url=saved[0]), Side("B", url=saved[1])
        (ra, la), (rb, lb) = read_saved(saved[0]), read_saved(saved[1])
        a.rounds, b.rounds = [ra], [rb]
        notes += [f"warning: {'' if s == SINGLE else s + ': '}A and B were not loaded alike: "
                  f"A {la[s]}, B {lb[s]}" for s in la if s in lb and la[s] != lb[s]]
    else:
        if not a_text or not b_text:
            raise UsageError("give both --a and --b (commands or URLs), or two saved results")
        if load and suite_file:
            raise UsageError("give either --load or --suite, not both")
        a, b = Side.parse("A", a_text, a_pid), Side.parse("B", b_text, b_pid)
        suite = None
        if suite_file:
            from pinkclinic.workflows.suite import check_suite
            from pinkclinic.workflows.suite_file import read_suite

            suite = read_suite(suite_file)
            check_suite(suite, {}, [])
        load_args = None if suite else shlex.split(load or "-c 20 -d 10")
        if load_args is not None:
            from pinkclinic.workflows.compare_rounds import parse_load

            parse_load(load_args, "http://127.0.0.1:1")  # bad options fail before any start
        interrupted = _run(a, b, rounds, load_args, suite,
                           {"start_timeout": start_timeout, "stop_timeout": stop_timeout})
        if interrupted:  # the same rounds on both sides, so drift hit both alike
            n = min(len(a.rounds), len(b.rounds))
            a.rounds, b.rounds = a.rounds[:n], b.rounds[:n]
        problems = a.problems + b.problems
        if not a.rounds or not b.rounds:
            if problems:
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                raise PinkError(problems[0] + more, EXIT_BROKEN)
            click.echo("pinkclinic: interrupted before a full round", err=True)
            return EXIT_INTERRUPTED
        notes.append(" ".join(filter(None, (rounds_note(a, b, rounds), spread(a, b)))))
        if interrupted:
            notes.append(f"interrupted: {len(a.rounds)} of {rounds} rounds completed")
    problems = a.problems + b.problems
    ma, mb = medians(a.rounds), medians(b.rounds)
    if not set(ma) & set(mb):
        problems.append(f"A and B have nothing in common to compare (A: {', '.join(ma)}; "
                        f"B: {', '.join(mb)})")
    crossed, unchecked = check_limits(limits, ma, mb)
    notes += crossed + unchecked + [f"problem: {p}" for p in problems]
    if as_json:
        click.echo(jsonio.dumps(to_json(a, b, ma, mb, limits, crossed, unchecked, problems),
                                indent=2))
    elif markdown:
        click.echo(to_markdown(ma, mb, a.label, b.label, notes), nl=False)
    else:
        print_table(ma, mb, a.label, b.label, Console(file=sys.stdout, highlight=False), notes)
    if crossed:
        return EXIT_LIMIT
    if interrupted:
        return EXIT_INTERRUPTED
    if problems or unchecked:
        first = (problems + unchecked)[0]
        more = len(problems) + len(unchecked) - 1
        click.echo(f"pinkclinic: error: comparison incomplete: {first}"
                   + (f" (and {more} more, listed above)" if more else ""), err=True)
        return EXIT_BROKEN
    return 0


def _run(a, b, rounds, load_args, suite, opts) -> bool:
    from pinkclinic.interrupt import StopSignal
    from pinkclinic.workflows.compare_rounds import run_rounds

    show = sys.stderr.isatty()

    def on_round(i: int, side) -> None:
        if show:
            click.echo(f"round {i + 1}/{rounds}: {side.name} ({side.label})", err=True)

    with StopSignal() as sig:
        run_rounds(a, b, rounds, load_args, suite, opts, sig.event, on_round)
        return sig.event.is_set()
