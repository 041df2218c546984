"""``pinkclinic compare``: two servers (or two saved results) side by side.

The rounds run in :mod:`pinkclinic.workflows.compare_rounds`; the table, markdown and JSON
are made in :mod:`pinkclinic.commands.compare_output`.
"""

from __future__ import annotations

import shlex
import sys

from pinkclinic import jsonio
from pinkclinic.commands.compare_output import markdown as to_markdown
from pinkclinic.commands.compare_output import print_table, rounds_note, spread, to_json
from pinkclinic.errors import PinkError, UsageError
from pinkclinic.exits import EXIT_INCOMPLETE, EXIT_INTERRUPTED, EXIT_LIMIT, EXIT_OK
from pinkclinic.interrupt import StopSignal
from pinkclinic.loadargs import parse_compare_load
from pinkclinic.ui.terminal import echo, stdout_console
from pinkclinic.workflows.compare import SINGLE, medians
from pinkclinic.workflows.compare_limits import check_limits, parse_limit
from pinkclinic.workflows.compare_rounds import Side, read_saved, run_rounds
from pinkclinic.workflows.suite import check_suite
from pinkclinic.workflows.suite_file import read_suite


def run_compare(saved: tuple[str, ...], *, a_text: str | None, b_text: str | None,
                load: str | None, suite_file: str | None, rounds: int, fail_if: tuple[str, ...],
                markdown: bool, as_json: bool, a_pid: int | None, b_pid: int | None,
                start_timeout: float, stop_timeout: float) -> int:
    """Compare, print the table (or markdown, or JSON) and the notes; the exit status."""
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
            suite = read_suite(suite_file)
            check_suite(suite, {}, [])
        load_args = None if suite else shlex.split(load or "-c 20 -d 10")
        if load_args is not None:
            parse_compare_load(load_args, "http://127.0.0.1:1")  # bad options fail before any start
        interrupted = _run(a, b, rounds, load_args, suite,
                           {"start_timeout": start_timeout, "stop_timeout": stop_timeout})
        if interrupted:  # the same rounds on both sides, so drift hit both alike
            n = min(len(a.rounds), len(b.rounds))
            a.rounds, b.rounds = a.rounds[:n], b.rounds[:n]
        problems = a.problems + b.problems
        if not a.rounds or not b.rounds:
            if problems:
                more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
                raise PinkError(problems[0] + more, EXIT_INCOMPLETE)
            echo("pinkclinic: interrupted before a full round", err=True)
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
        echo(jsonio.dumps(to_json(a, b, ma, mb, limits, crossed, unchecked, problems),
                          indent=2))
    elif markdown:
        echo(to_markdown(ma, mb, a.label, b.label, notes), nl=False)
    else:
        print_table(ma, mb, a.label, b.label, stdout_console(), notes)
    if crossed:
        return EXIT_LIMIT
    if interrupted:
        return EXIT_INTERRUPTED
    if problems or unchecked:
        first = (problems + unchecked)[0]
        more = len(problems) + len(unchecked) - 1
        echo(f"pinkclinic: error: comparison incomplete: {first}"
             + (f" (and {more} more, listed above)" if more else ""), err=True)
        return EXIT_INCOMPLETE
    return EXIT_OK


def _run(a, b, rounds, load_args, suite, opts) -> bool:
    show = sys.stderr.isatty()

    def on_round(i: int, side) -> None:
        if show:
            echo(f"round {i + 1}/{rounds}: {side.name} ({side.label})", err=True)

    with StopSignal() as sig:
        run_rounds(a, b, rounds, load_args, suite, opts, sig.event, on_round)
        return sig.event.is_set()
