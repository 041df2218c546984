"""How a diff's numbers read, for the terminal summary and the page alike."""

from __future__ import annotations

from pinkclinic.units import human_bytes


def ms(v: float | None) -> str:
    if v is None:
        return "—"
    if abs(v) >= 100:
        return f"{v:,.0f} ms"
    if abs(v) >= 1:
        return f"{v:.2f} ms"
    return f"{1000 * v:.0f} µs"


def signed_ms(v: float) -> str:
    return ("+" if v > 0 else "−" if v < 0 else "±") + ms(abs(v))


def pct(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{100 * v:+.1f}%".replace("-", "−")


def share(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.2f}%"


def figure(v: float | None, unit: str) -> str:
    """A doctor figure with its unit."""
    if v is None:
        return "—"
    if unit == "bytes":
        return human_bytes(v)
    if unit == "share":
        return share(v)
    if unit == "ms":
        return ms(v)
    return f"{v:,.1f} {unit}"


def value(row: dict, side: str, per_request: bool, prefix: str = "") -> str:
    """A function's total (or ``prefix="self_"``) on one side."""
    if per_request:
        return ms(row.get(f"{side}_{prefix}ms_per_request"))
    return share(row.get(f"{side}_share"))


def interval(row: dict, per_request: bool) -> str:
    lo, hi = row.get("interval_ms") if per_request else row.get("interval_share") or (None, None)
    if lo is None:
        return "—"
    if per_request:
        return f"{signed_ms(lo)} … {signed_ms(hi)}"
    return f"{100 * lo:+.2f} … {100 * hi:+.2f} pts"


def verdict(row: dict, key: str = "significant") -> tuple[str, str]:
    """(words, css class) of a function's change."""
    if not row.get(key):
        return "not significant", "pd-noise"
    delta = (row.get("new_samples") or 0) / 1, (row.get("base_samples") or 0)
    more = (row.get("change") or 0) > 0 if row.get("change") is not None else delta[0] > 0
    return ("more", "pd-more") if more else ("less", "pd-less")


def change(row: dict) -> str:
    if row.get("change") is not None:
        return pct(row["change"])
    return {"new": "new", "removed": "removed"}.get(row.get("status"), "—")


def better_class(m: dict) -> str:
    ch = m.get("change")
    if not ch:
        return ""
    worse = ch > 0 if m.get("better") == "lower" else ch < 0
    return "pd-more" if worse else "pd-less"
