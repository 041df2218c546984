"""``pinkclinic diff BASE NEW``, and ``--baseline DIR`` after a doctor, flame or heap run:
compare two recordings, write the diff page, print the summary, check ``--fail-if``.

Exit codes (as ``compare``): 0 compared and no limit crossed; 1 a limit crossed by a
significant change; 2 bad input; 3 a limit could not be checked.
"""

from __future__ import annotations

import sys
import webbrowser
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from pinkclinic.commands.summary import short_path
from pinkclinic.diff import Diff, diff_recordings
from pinkclinic.diff import present as p
from pinkclinic.diff.build import check_kind
from pinkclinic.diff.limits import Limit, check_limits, parse_limit
from pinkclinic.diff.sides import open_recording
from pinkclinic.exits import EXIT_INCOMPLETE, EXIT_LIMIT, EXIT_OK
from pinkclinic.jsonio import dumps
from pinkclinic.render.diff import summary_lines, write_diff_report

SHOWN = 8  # functions on the terminal
EVERYTHING = 0.9  # a frame in this share of the samples is a root (main, the loop), not news


def parse_limits(texts) -> list[Limit]:
    return [parse_limit(t) for t in texts or ()]


def check_baseline(path: str | None, kind: str) -> None:
    """``--baseline`` is checked before a run starts, not after a 10 s recording."""
    if path is None:
        return
    check_kind(kind)
    rec = open_recording(path)
    if rec.kind != kind:
        from pinkclinic.errors import UsageError

        raise UsageError(f"--baseline {path} is a {rec.kind} recording; this is a {kind} run "
                         "(--force is only on `pinkclinic diff`)")


def changed(r: dict) -> bool:
    """Worth a terminal line: its own time changed, or it is app code whose total changed
    and that is not one of the frames every sample runs through (``<module>``, ``run``)."""
    if r["self_significant"]:
        return True
    return (r["significant"] and r.get("area") == "app"
            and max(r["base_share"] or 0, r["new_share"] or 0) < EVERYTHING)


def _functions(console: Console, d: dict) -> None:
    per_request = d["normalised_by"] == "request"
    shown = [r for r in d["functions"] if changed(r)][:SHOWN]
    if not shown:
        console.print("  no function changed by more than the sampling noise")
        return
    unit = "ms per request" if per_request else "share of CPU"
    console.print(f"  functions that changed ({unit}, total; 95% interval of the change):")
    for r in shown:
        words, _ = p.verdict(r, "significant" if r["significant"] else "self_significant")
        colour = {"more": "red", "less": "blue"}.get(words, "dim")
        console.print(f"    [{colour}]{p.change(r):>8}[/]  {p.value(r, 'base', per_request):>9} → "
                      f"{p.value(r, 'new', per_request):<9} [{p.interval(r, per_request)}]  "
                      f"[bold]{escape(r['function'])}[/]  "
                      f"[dim]{escape(short_path(r['file']))}:{r['line']}[/]")


def print_summary(diff: Diff, report: Path | None, console: Console | None = None) -> None:
    console = console or Console(highlight=False, soft_wrap=True)
    d = diff.data
    console.print(f"[bold magenta]diff[/] {escape(str(d['new']['name']))} against "
                  f"{escape(str(d['base']['name']))} ({d['kind']})")
    for line in summary_lines(d):
        console.print(f"  {escape(line)}")
    doc = d.get("doctor")
    if doc:
        console.print(f"  verdict: {escape(str(doc['verdict']['base']))} → "
                      f"{escape(str(doc['verdict']['new']))}")
        for status, colour in (("resolved", "blue"), ("new", "red"), ("persisting", "yellow")):
            for i in doc["issues"][status]:
                console.print(f"    [{colour}]{status}[/] {escape(i['category'])}: "
                              f"{escape(i['summary'])}")
        for m in doc["metrics"]:
            if m["base"] is None and m["new"] is None:
                continue
            console.print(f"    {m['label']:<19} {p.figure(m['base'], m['unit']):>12} → "
                          f"{p.figure(m['new'], m['unit']):<12} {p.pct(m['change'])}")
    heap = d.get("heap")
    if heap:
        pk = heap["peak"]
        console.print(f"  peak memory: {p.figure(pk['base_bytes'], 'bytes')} → "
                      f"{p.figure(pk['new_bytes'], 'bytes')} ({p.pct(pk['change'])})")
        for s in heap["leaks"]:
            console.print(f"    {s['status']:<10} {escape(str(s['function']))}: "
                          f"{p.figure(s['base_bytes_per_request'], 'bytes')} → "
                          f"{p.figure(s['new_bytes_per_request'], 'bytes')} per request")
    if "functions" in d:
        _functions(console, d)
    for w in d.get("warnings", []):
        console.print(f"  [yellow]{escape(w)}[/]")
    if report is not None:
        console.print(f"  diff: [bold]{escape(str(report))}[/]")


def _gate(limits: list[Limit], data: dict, console: Console) -> int:
    crossed, unchecked, notes = check_limits(limits, data)
    for line in notes:
        console.print(f"  [dim]{escape(line)}[/]")
    for line in crossed:
        console.print(f"  [bold red]{escape(line)}[/]")
    for line in unchecked:
        console.print(f"  [yellow]{escape(line)}[/]")
    if crossed:
        return EXIT_LIMIT
    return EXIT_INCOMPLETE if unchecked else EXIT_OK


def run_diff(base: str, new: str, *, output: str | None = None, as_json: bool = False,
             force: bool = False, fail_if=(), open_report: bool = False) -> int:
    limits = parse_limits(fail_if)
    diff = diff_recordings(base, new, force=force)
    if as_json:
        sys.stdout.write(dumps(diff.data, indent=1) + "\n")
        return _gate(limits, diff.data, Console(stderr=True, highlight=False, soft_wrap=True))
    report = write_diff_report(diff, output)
    console = Console(highlight=False, soft_wrap=True)
    print_summary(diff, report, console)
    code = _gate(limits, diff.data, console)
    if open_report:
        webbrowser.open(report.resolve().as_uri())
    return code


def after_run(rec_path: Path, baseline: str, fail_if=()) -> int:
    """``--baseline DIR``: the diff of the run just made against DIR."""
    console = Console(highlight=False, soft_wrap=True)
    diff = diff_recordings(baseline, rec_path)
    report = write_diff_report(diff)
    print_summary(diff, report, console)
    return _gate(parse_limits(fail_if), diff.data, console)
