"""The comparison table (| Metric | A | B | Improvement |), for the terminal and as markdown."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pinkclinic.load.compare import METRICS, SINGLE, Metric, improvement

DASH = "–"


def fmt_value(m: Metric, v: float | None) -> str:
    if v is None:
        return DASH
    if m.key == "rps":
        return f"{v:,.0f}"
    if m.key in ("p50", "p99"):
        return f"{v:.2f} ms"
    if m.key == "rss":
        return f"{v:.1f} MB"
    if m.key == "cpu":
        return f"{v:.0f}%"
    return f"{v:g}"


def rows(a: dict, b: dict) -> list[tuple[str, str, str, str]]:
    """The table rows of one section; Errors only when either side had some."""
    out = []
    for m in METRICS:
        va, vb = a.get(m.key), b.get(m.key)
        if m.key == "errors" and not (va or vb):
            continue
        out.append((m.label, fmt_value(m, va), fmt_value(m, vb), improvement(m, va, vb)))
    return out


def sections(a: dict, b: dict) -> list[str]:
    return [s for s in dict.fromkeys([*a, *b])]


def print_table(a: dict, b: dict, a_label: str, b_label: str, console: Console,
                notes: list[str]) -> None:
    console.print(f"A: {a_label}\nB: {b_label}", markup=False, highlight=False)
    for s in sections(a, b):
        # Text, not str: endpoint names come from a file, and rich would read "[b]" as markup
        title = None if s == SINGLE else Text(f"endpoint: {s}", style="italic")
        t = Table(box=box.SQUARE, header_style="bold", title=title, title_justify="left")
        for i, col in enumerate(("Metric", "A", "B", "Improvement")):
            t.add_column(col, justify="right" if i in (1, 2) else "left", no_wrap=True)
        for row in rows(a.get(s, {}), b.get(s, {})):
            t.add_row(*(Text(c) for c in row))
        console.print(t)
    for line in notes:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def markdown(a: dict, b: dict, a_label: str, b_label: str, notes: list[str]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [f"A: `{a_label}`  ", f"B: `{b_label}`", ""]
    for s in sections(a, b):
        if s != SINGLE:
            lines += [f"**{cell(s)}**", ""]
        lines += ["| Metric | A | B | Improvement |", "|---|---:|---:|---|"]
        lines += [f"| {' | '.join(cell(c) for c in row)} |" for row in rows(a.get(s, {}), b.get(s, {}))]
        lines.append("")
    lines += [f"{n}  " for n in notes]
    return "\n".join(lines).rstrip() + "\n"
