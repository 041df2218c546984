"""The JSON's instants: ``start``/``finish`` (ISO 8601) and ``*_epoch`` name the same millisecond."""

from __future__ import annotations

import random
from datetime import datetime

from pinkclinic.load.core.result import epoch_ms, iso_utc


def test_iso_and_epoch_agree_to_the_millisecond():
    rng = random.Random(18)
    # a half millisecond (truncated by isoformat, rounded by round()) and random instants
    for t in [1793172491.0015, 1796127699.0859999, 1796127699.9996,
              *(rng.uniform(1.7e9, 1.8e9) for _ in range(20000))]:
        iso = datetime.fromisoformat(iso_utc(t).replace("Z", "+00:00")).timestamp()
        assert abs(iso - epoch_ms(t)) < 1e-6, t
        assert abs(epoch_ms(t) - t) <= 0.0005 + 1e-6, t  # a float of 1.8e9 s is exact to 2.4e-7 s
