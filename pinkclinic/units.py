"""Byte sizes as every report and summary prints them: powers of 1000 (B, kB, MB, GB),
so doctor's memory figures and heap's agree to the digit."""

from __future__ import annotations

MB = 1e6


def human_bytes(n: float) -> str:
    """``20.1 kB``: powers of 1000; whole bytes below 1 kB (``8 B``)."""
    n = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 999.95 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"
