"""bench's results on the terminal, in autocannon's tables: the header, latency, req/s and
bytes/s per second, the full percentile table (``-l``) and the lines under them. A
WebSocket run (:mod:`pinkclinic.commands.bench.ws`) uses them with its own labels.
"""

from __future__ import annotations

import math

from pinkclinic import redact
from pinkclinic.load.core.result import LoadResult
from pinkclinic.load.core.stats import ALL_PERCENTILES, counter_percentiles
from pinkclinic.ui.fmt import fmt_bytes, fmt_count, fmt_ms
from pinkclinic.ui.terminal import table


def header(s) -> str:
    """``Running 10s test @ URL`` and the load's shape, as autocannon starts; ``s`` a spec."""
    what = f"{s.amount} requests" if s.amount is not None else f"{s.duration:g}s"
    parts = [f"{s.connections} connections"]
    if s.pipelining > 1:
        parts.append(f"pipelining {s.pipelining}")
    if s.workers:
        parts.append(f"{s.workers} worker{'s' if s.workers > 1 else ''}")
    if s.rate is not None:
        parts.append(f"rate {s.rate:g} req/s" + ("" if s.correction else " (no correction)"))
    if getattr(s, "protocol", None) == "h2":
        how = "TLS with ALPN" if s.tls else "h2c, prior knowledge"
        parts[-1] += f", HTTP/2 ({how}), {s.streams} streams per connection"
    return f"Running {what} test @ {redact.url(s.url)}\n" + ", ".join(parts) + "\n"


def per_second(xs: list[float]) -> dict:
    """Average, spread, minimum and percentiles of per-second samples (whole numbers)."""
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


def latency_table(r: LoadResult, label: str = "Latency"):
    lat = table("Stat", "2.5%", "50%", "97.5%", "99%", "Avg", "Stdev", "Max")
    L = r.latency
    lat.add_row(label, *(fmt_ms(r.latency_ms(p)) for p in (2.5, 50, 97.5, 99)),
                fmt_ms(L["mean"] / 1000), fmt_ms(L["stdev"] / 1000), fmt_ms(L["max"] / 1000))
    return lat


def rates_table(r: LoadResult, label: str = "Req/Sec"):
    """Requests (``label``) and bytes per second, over the run's one-second samples."""
    rb = table("Stat", "1%", "2.5%", "50%", "97.5%", "Avg", "Stdev", "Min")
    for name, which, f in ((label, 1, fmt_count), ("Bytes/Sec", 2, fmt_bytes)):
        st = per_second(r.per_second(which))
        rb.add_row(name, *(f(v) for v in st["pcts"]), f(st["avg"]), f(st["sd"]), f(st["min"]))
    return rb


def percentile_table(r: LoadResult, label: str = "Latency"):
    pt = table("Percentile", label)
    for p in ALL_PERCENTILES:
        pt.add_row(f"{p:g}%", fmt_ms(r.latency_ms(p)))
    return pt


def tables(r: LoadResult, *, full_latency: bool = False) -> list:
    out: list = [latency_table(r), rates_table(r)]
    if full_latency:
        out.append(percentile_table(r))
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
