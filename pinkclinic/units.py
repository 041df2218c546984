"""Units, defined once: byte sizes as every report, summary and table prints them (powers
of 1000: B, kB, MB, GB, so doctor's memory figures, heap's and bench's agree to the
digit), and the amounts a ``--fail-if`` limit compares (``50ms``, ``10MB``, ``+10%``), for
``compare`` and ``diff`` alike.

An amount belongs to a family, and its unit must fit it:

============  ======================  ============================  ===================
family        units                   held in                       a bare number is
============  ======================  ============================  ===================
duration      us µs ms s              milliseconds                  refused
size          B kB MB GB KiB MiB GiB  bytes                         refused
rate          req/s rps               requests a second             requests a second
count         (none)                  itself                        itself
share         %                       percent                       percent
============  ======================  ============================  ===================

A bare duration or size (but 0) is refused, not guessed: ``cpu/req > 200`` could mean µs or ms,
and a gate read in the wrong unit never trips, silently.

``%`` is a change against the other side (``+10%``, ``-5%``, ``10%``), except on a share,
where ``5%`` without a sign is the share itself and ``+5%`` a change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pinkclinic.errors import UsageError

MB = 1e6
UNITS = ("B", "kB", "MB", "GB")

# unit (lower case) -> the family's base unit
FAMILIES: dict[str, dict[str, float]] = {
    "duration": {"us": 1e-3, "µs": 1e-3, "μs": 1e-3, "ms": 1.0, "s": 1e3},
    "size": {"b": 1.0, "kb": 1e3, "mb": 1e6, "gb": 1e9, "kib": 1024.0, "mib": 1024.0 ** 2,
             "gib": 1024.0 ** 3},
    "rate": {"req/s": 1.0, "rps": 1.0, "": 1.0},
    "count": {"": 1.0},
    "share": {"": 1.0},
}
SPELLED = {"duration": "a duration: us, ms or s", "size": "a size: B, kB, MB, GB, KiB, MiB or GiB",
           "rate": "a rate: req/s", "count": "a count: no unit", "share": "a share: %"}
# a number and its unit, for the limit grammars of compare and diff
AMOUNT = r"([+-]?\d+(?:\.\d+)?)\s*([a-zµμ/%]*)"
_AMOUNT_RE = re.compile(rf"\s*{AMOUNT}\s*", re.I)


@dataclass(frozen=True)
class Amount:
    value: float     # in the family's base unit; a change in % when relative
    relative: bool   # a change against the other side, in %


def parse_amount(text: str, family: str, what: str = "the value", *,
                 changes: bool = True) -> Amount:
    """``"1.5s"`` as a duration -> 1500 ms; ``"+10%"`` -> a change of +10% (unless not
    ``changes``). A unit that does not fit the family is a :class:`UsageError` naming
    ``what`` and the units that fit."""
    m = _AMOUNT_RE.fullmatch(text)
    if not m:
        raise UsageError(f"{what}: {text.strip()!r} is not a number with a unit")
    number, unit = m.group(1), m.group(2)
    relative = unit == "%" and (number[0] in "+-" or family != "share")
    if unit == "%" and (changes or not relative):
        return Amount(float(number), relative)
    scale = None if unit == "%" else FAMILIES[family].get(unit.lower())
    if scale is None and not unit and float(number) == 0:
        return Amount(0.0, False)  # zero is zero in every unit
    if scale is None and not unit:
        raise UsageError(f"{what}: {text.strip()!r} needs a unit, it is {SPELLED[family]}")
    if scale is None:
        raise UsageError(f"{what}: unit {unit!r} does not fit, it is {SPELLED[family]}"
                         + (" (or % for a change)" if changes else ""))
    return Amount(float(number) * scale, False)


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
