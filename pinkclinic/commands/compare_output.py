"""The comparison table (| Metric | A | B | Improvement |), for the terminal, as markdown
and as JSON, and the notes under it (rounds, their spread)."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pinkclinic.ui.fmt import DASH
from pinkclinic.workflows.compare import BY_KEY, METRICS, SINGLE, Metric, change, improvement

SCHEMA_VERSION = 2


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
    if m.key == "cpu_req":
        return f"{v:,.0f} µs"
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


def rounds_note(a, b, asked: int) -> str:
    na, nb = len(a.rounds), len(b.rounds)
    if na == nb == 1:
        return "1 round per side: A, then B."
    if na == nb:
        return f"{na} rounds per side, alternating A B; medians shown."
    return f"A: {na} rounds, B: {nb} rounds (of {asked}), alternating A B; medians shown."


def spread(a, b) -> str:
    """Round-to-round req/s of each side, so the reader sees the noise behind the medians."""
    parts = []
    for side in (a, b):
        values = [r.get(SINGLE, {}).get("rps") for r in side.rounds]
        values = [v for v in values if v is not None]
        if len(values) > 1:
            parts.append(f"{side.name} req/s {min(values):,.0f}–{max(values):,.0f}")
    return ("Spread over rounds: " + ", ".join(parts) + ".") if parts else ""


def to_json(a, b, ma: dict, mb: dict, limits, crossed: list[str], unchecked: list[str],
            problems: list[str]) -> dict:
    def side(s, med):
        return {"label": s.label, "command": s.command, "url": s.url, "rounds": s.rounds,
                "median": med}

    out = {}
    for section in dict.fromkeys([*ma, *mb]):
        x, y = ma.get(section, {}), mb.get(section, {})
        out[section] = {k: {"change_percent": None if change(x.get(k), y.get(k)) is None
                            else round(change(x.get(k), y.get(k)), 2),
                            "text": improvement(m, x.get(k), y.get(k))}
                        for k, m in BY_KEY.items()}
    return {"schema_version": SCHEMA_VERSION, "kind": "compare", "a": side(a, ma),
            "b": side(b, mb), "improvement": out, "limits": [lim.text for lim in limits],
            "crossed": crossed, "unchecked": unchecked, "problems": problems,
            "complete": not (problems or unchecked)}
