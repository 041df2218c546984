"""Byte sizes as every report, summary and table prints them: powers of 1000 (B, kB, MB,
GB), so doctor's memory figures, heap's and bench's agree to the digit."""

from __future__ import annotations

MB = 1e6
UNITS = ("B", "kB", "MB", "GB")


def human_bytes(n: float, decimals: int = 1, *, carry: bool = True) -> str:
    """``20.1 kB``: powers of 1000 with ``decimals`` decimals; whole bytes below 1 kB (``8 B``).

    With ``carry``, a size that would read 1000 of a unit at that precision is written in
    the next one (``1.0 MB``, not ``1000.0 kB``). bench's tables (``decimals=2,
    carry=False``) read as autocannon's, whose unit follows the exact size: 999,999 bytes
    are ``1000.00 kB`` there."""
    n = float(n)
    limit = 1000 - 0.5 * 10 ** -decimals if carry else 1000
    for i, unit in enumerate(UNITS[:-1]):
        v = n / 1000 ** i
        if abs(v) < limit:
            return f"{v:.0f} B" if i == 0 else f"{v:.{decimals}f} {unit}"
    return f"{n / 1000 ** 3:.{decimals}f} GB"
