"""The suite's one table: endpoint, req/s, p50, p97.5, p99, errors, server CPU and peak RSS."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pinkclinic.load.render import fmt_bytes, fmt_count, fmt_ms
from pinkclinic.workflows.suite import SuiteRun

DASH = "–"


def fmt_cpu(x: float | None) -> str:
    return DASH if x is None else f"{x:.0f}%"


def fmt_rss(x: int | None) -> str:
    return DASH if x is None else fmt_bytes(x)


def suite_table(run: SuiteRun) -> Table:
    t = Table(box=box.SQUARE, header_style="bold")
    for i, col in enumerate(("Endpoint", "Req/s", "p50", "p97.5", "p99", "Errors",
                             "CPU %", "Peak RSS")):
        t.add_column(col, justify="left" if i == 0 else "right", no_wrap=i > 0)
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


def print_suite(run: SuiteRun, console: Console) -> None:
    where = " ".join(run.command) if run.command else run.url
    console.print(f"Suite {run.suite.path} @ {where}", markup=False, highlight=False)
    console.print(suite_table(run))
    total = sum(er.result.requests for er in run.runs if er.result is not None)
    console.print(f"{fmt_count(total)} requests over {sum(1 for r in run.runs if r.result)} "
                  "endpoints. CPU % and Peak RSS: the server's whole process tree during each "
                  "endpoint (100% = one core). Errors include non-2xx.", markup=False,
                  highlight=False, soft_wrap=True)
    for line in notes(run):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
