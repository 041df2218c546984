"""The end-of-run lines on the terminal: verdict, reason, culprits, how the run ended,
report path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from pinkclinic.render.doctor import LABELS, ending_line

COLOURS = {"healthy": "green", "insufficient-data": "yellow"}


def short_path(path: str) -> str:
    """``path`` relative to the working directory when it lies below it."""
    import os

    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def print_ending(outcome: str | None, detail: str | None, console: Console | None = None) -> None:
    line = ending_line(outcome, detail)
    if line:
        console = console or Console(highlight=False, soft_wrap=True)
        colour = "red" if outcome in ("target-crashed", "error") else "yellow"
        console.print(f"  [{colour}]run: {escape(line)}[/]")


ROUTE_LINES = 5  # routes shown on the terminal (the report has them all)


def print_routes(routes: dict | None, console: Console) -> None:
    """The per-route table's busiest rows when the load had several routes; or, after
    another process's load (``--on-port``), the one line saying there is no table."""
    if not routes:
        return
    table = routes.get("table")
    if table is None:
        if "--on-port" in routes.get("why", ""):
            console.print(f"  [dim]{escape(routes['why'])}[/]")
        return
    if len(table) < 2:
        return
    names = [f"{r['method']} {r['path']}" for r in table[:ROUTE_LINES]]
    width = max(len(n) for n in names)
    console.print(f"  routes:{' ' * (width - 3)}count      p50      p99  errors")
    for name, r in zip(names, table, strict=False):
        console.print(f"    {escape(name.ljust(width))}  [dim]{r['count']:>6,} {r['p50_ms']:>6.1f}ms "
                      f"{r['p99_ms']:>6.1f}ms {r['errors']:>7,}[/]")
    if len(table) > ROUTE_LINES:
        console.print(f"    [dim]... {len(table) - ROUTE_LINES} more in the report[/]")


def print_diagnosis(diagnosis: dict[str, Any], report: Path | None, *, kind: str = "doctor",
                    console: Console | None = None) -> None:
    console = console or Console(highlight=False, soft_wrap=True)
    verdict = diagnosis["verdict"]
    colour = COLOURS.get(verdict, "red")
    console.print(f"[bold {colour}]{escape(LABELS.get(verdict, verdict))}[/] [dim]({verdict})[/]")
    console.print(f"  {escape(diagnosis.get('summary', ''))}")
    issues = diagnosis.get("issues", [])
    # the culprits of the verdict's own issue: another issue's would be misread as its
    if issues and issues[0].get("category") == verdict and issues[0].get("culprits"):
        console.print("  culprits:")
        for c in issues[0]["culprits"][:5]:
            extra = ""
            if c.get("bytes_per_request") is not None or c.get("bytes_per_second") is not None:
                from pinkclinic.heap.diagnosis import rate_text

                extra = f"  ~{rate_text(c)}"
            if c.get("via"):
                extra += f"  via {c['via']['function']} ({short_path(c['via']['file'])})"
            console.print(f"    {100 * c['share']:5.1f}%  [bold]{escape(c['function'])}[/]  "
                          f"[dim]{escape(short_path(c['file']))}:{c['line']}[/]{escape(extra)}")
            if c.get("routes"):
                console.print("             [dim]slows most:[/] " + escape(", ".join(
                    f"{r['method']} {r['path']} {100 * r['share']:.0f}%" for r in c["routes"])))
    sat = diagnosis.get("saturation") or {}
    if verdict == "healthy" and sat.get("culprits"):
        console.print("  holding the CPU:")
        for c in sat["culprits"][:5]:
            console.print(f"    {100 * c['share']:5.1f}%  [bold]{escape(c['function'])}[/]  "
                          f"[dim]{escape(short_path(c['file']))}:{c['line']}[/]")
    print_routes(diagnosis.get("routes"), console)
    others = [i["category"] for i in issues[1:]]
    if others:
        console.print(f"  also: {escape(', '.join(others))}")
    for warning in diagnosis.get("warnings", []):
        console.print(f"  [yellow]warning: {escape(warning)}[/]")
    if diagnosis.get("recommendation"):
        console.print(f"  next: {escape(diagnosis['recommendation'])}")
    if diagnosis.get("signals_missing"):
        console.print(f"  [dim]signals not available: {escape(', '.join(diagnosis['signals_missing']))}[/]")
    run = diagnosis.get("run") or {}
    print_ending(run.get("outcome"), run.get("detail"), console)
    if report is not None:
        console.print(f"  report: [bold]{escape(str(report))}[/]")
