"""Click types for the load options' numbers: durations like wrk's and autocannon's
(``10``, ``10s``, ``500ms``, ``1m``, ``1h``) and a rate; inf, nan and negative values
are refused with one line (exit 2)."""

from __future__ import annotations

import math
import re

import click

UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(ms|s|m|h)?\s*", re.I)


def parse_seconds(text: str) -> float:
    """``"1.5"`` -> 1.5, ``"500ms"`` -> 0.5, ``"2m"`` -> 120.0; ValueError otherwise."""
    m = _DURATION.fullmatch(text)
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * UNITS[(m.group(2) or "s").lower()]


class Seconds(click.ParamType):
    name = "seconds"

    def __init__(self, allow_zero: bool = False):
        self.allow_zero = allow_zero

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            x = float(value)
        else:
            try:
                x = parse_seconds(str(value))
            except ValueError:
                self.fail(f"{value!r} is not a duration: give seconds (10, 2.5) or a number "
                          "with ms, s, m or h (500ms, 10s, 1m)", param, ctx)
        if not math.isfinite(x) or x < 0 or (x == 0 and not self.allow_zero):
            self.fail(f"{value!r} must be a finite number of seconds "
                      f"{'of at least 0' if self.allow_zero else 'above 0'}", param, ctx)
        return x


class Rate(click.ParamType):
    name = "float"

    def convert(self, value, param, ctx):
        try:
            x = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of requests per second", param, ctx)
        if not math.isfinite(x) or x <= 0:
            self.fail(f"{value!r} must be a finite number of requests per second above 0",
                      param, ctx)
        return x


SECONDS = Seconds()
SECONDS_OR_ZERO = Seconds(allow_zero=True)
RATE = Rate()
