"""Numbers as the terminal tables print them (autocannon's way): latencies in ms with two
decimals, so that a sub-millisecond latency never reads "0 ms"; counts with k and M;
bytes in powers of 1000 (:func:`pinkclinic.units.human_bytes`)."""

from __future__ import annotations

from pinkclinic.units import human_bytes

DASH = "–"  # a value that is not there


def fmt_ms(x: float) -> str:
    return f"{x:.2f} ms"


def fmt_count(n: float) -> str:
    n = float(n)
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.{1 if n / div < 100 else 0}f}{unit}"
    return f"{n:.0f}"


def fmt_bytes(n: float) -> str:
    """Bytes in bench's tables: two decimals, the unit that the exact size reaches."""
    return human_bytes(n, 2, carry=False)
