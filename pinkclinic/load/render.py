"""Terminal output for a LoadResult: autocannon-style tables (rich), and the live progress bar.

Latencies print in ms with two decimals, so a sub-millisecond latency never reads "0 ms".
rich is imported only when something is drawn, so ``bench --json`` starts faster.
"""

from __future__ import annotations

import math
import sys

from pinkclinic.load.core.result import LoadResult
from pinkclinic.load.core.stats import ALL_PERCENTILES, counter_percentiles


def fmt_ms(x: float) -> str:
    return f"{x:.2f} ms"


def fmt_count(n: float) -> str:
    n = float(n)
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.{1 if n / div < 100 else 0}f}{unit}"
    return f"{n:.0f}"


def fmt_bytes(n: float) -> str:
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.2f} {unit}"
    return f"{n:.0f} B"


def header(r: LoadResult) -> str:
    s = r.spec
    what = f"{s.amount} requests" if s.amount is not None else f"{s.duration:g}s"
    parts = [f"{s.connections} connections"]
    if s.pipelining > 1:
        parts.append(f"pipelining {s.pipelining}")
    if s.workers:
        parts.append(f"{s.workers} worker{'s' if s.workers > 1 else ''}")
    if s.rate is not None:
        parts.append(f"rate {s.rate:g} req/s" + ("" if s.correction else " (no correction)"))
    return f"Running {what} test @ {s.url}\n" + ", ".join(parts) + "\n"


def _table(*cols: str):
    from rich import box
    from rich.table import Table

    t = Table(box=box.SQUARE, show_lines=False, header_style="bold")
    for i, c in enumerate(cols):
        t.add_column(c, justify="left" if i == 0 else "right", no_wrap=True)
    return t


def _stats(xs: list[float]) -> dict:
    n = len(xs)
    if not n:
        return {"avg": 0.0, "sd": 0.0, "min": 0.0, "pcts": [0, 0, 0, 0]}
    avg = sum(xs) / n
    sd = math.sqrt(sum((x - avg) ** 2 for x in xs) / n)
    counts: dict[int, int] = {}
    for x in xs:
        counts[round(x)] = counts.get(round(x), 0) + 1
    return {"avg": avg, "sd": sd, "min": min(xs),
            "pcts": counter_percentiles(counts, (1, 2.5, 50, 97.5))}


def tables(r: LoadResult, *, full_latency: bool = False) -> list:
    lat = _table("Stat", "2.5%", "50%", "97.5%", "99%", "Avg", "Stdev", "Max")
    L = r.latency
    lat.add_row("Latency", *(fmt_ms(r.latency_ms(p)) for p in (2.5, 50, 97.5, 99)),
                fmt_ms(L["mean"] / 1000), fmt_ms(L["stdev"] / 1000), fmt_ms(L["max"] / 1000))
    rb = _table("Stat", "1%", "2.5%", "50%", "97.5%", "Avg", "Stdev", "Min")
    for name, which, f in (("Req/Sec", 1, fmt_count), ("Bytes/Sec", 2, fmt_bytes)):
        st = _stats(r.per_second(which))
        rb.add_row(name, *(f(v) for v in st["pcts"]), f(st["avg"]), f(st["sd"]), f(st["min"]))
    out: list = [lat, rb]
    if full_latency:
        pt = _table("Percentile", "Latency")
        for p in ALL_PERCENTILES:
            pt.add_row(f"{p:g}%", fmt_ms(r.latency_ms(p)))
        out.append(pt)
    return out


def footer(r: LoadResult) -> list[str]:
    lines = ["Req/Bytes counts sampled once per second.", f"# of samples: {len(r.samples)}", ""]
    if r.spec.rate is not None:
        how = ("latency from each request's intended send time" if r.spec.correction
               else "latency from the actual send (no correction)")
        lines.append(f"rate: target {r.spec.rate:g} req/s, achieved {r.rps:.1f} req/s; {how}")
    non2xx = r.non2xx
    if non2xx:
        codes = ", ".join(f"{n} × {s}" for s, n in sorted(r.status.items()) if not 200 <= s < 300)
        lines.append(f"{fmt_count(r.requests - non2xx)} 2xx responses, {non2xx} non 2xx responses ({codes})")
    lines.append(f"{fmt_count(r.requests)} requests in {r.duration:.2f}s, {fmt_bytes(r.bytes)} read")
    if r.error_count:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(r.errors.items()))
        lines.append(f"{r.error_count} errors ({r.timeouts} timeouts): {kinds}")
    if r.reconnects:
        lines.append(f"{r.reconnects} reconnects")
    if r.inflight:
        lines.append(f"{r.inflight} requests were still in flight when the run ended (not counted)")
    if r.connecting:
        lines.append(f"{r.connecting} connections were still connecting when the run ended "
                     f"(a connect counts as a timeout once it is {r.spec.timeout:g}s old)")
    if r.interrupted:
        lines.append(f"interrupted after {r.duration:.2f}s: these are the results so far")
    lines += r.notes
    return lines


def print_result(r: LoadResult, console, *, full_latency: bool = False) -> None:
    """Print the tables and footer on a rich ``Console``."""
    if r.requests:  # with no response at all, empty tables would only hide the error lines
        for t in tables(r, full_latency=full_latency):
            console.print(t)
    for line in footer(r):
        console.print(line, highlight=False, markup=False)


class LiveProgress:
    """A progress bar on stderr with the current req/s; ``tick`` is an ``on_tick``."""

    def __init__(self, spec, enabled: bool):
        self.enabled = enabled
        self.done = 0
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        total = spec.amount if spec.amount is not None else spec.duration
        self.by_count = spec.amount is not None
        self.progress = Progress(TextColumn("[bold]{task.fields[rps]}"), BarColumn(),
                                 TimeElapsedColumn(), console=Console(file=sys.stderr),
                                 transient=True, refresh_per_second=4)
        self.task = self.progress.add_task("load", total=total,
                                           rps="starting…")

    def __enter__(self) -> LiveProgress:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.progress.stop()

    def tick(self, rec: dict) -> None:
        if not self.enabled:
            return
        self.done += rec["requests"] if self.by_count else rec["dur_s"]
        rps = rec["requests"] / rec["dur_s"] if rec["dur_s"] else 0
        self.progress.update(self.task, completed=self.done,
                             rps=f"{fmt_count(rps)} req/s, p99 {rec['p99_ms']:.2f} ms")
