"""Arrivals of a phase (artillery's model) are placed exactly, ramps included."""

from __future__ import annotations

from pinkclinic.load.scenario.file import Phase
from pinkclinic.load.scenario.run import arrival_times


def test_ramp_arrivals_are_exact():
    times = arrival_times(Phase("ramp", duration=4, rate=0, ramp_to=20))
    assert len(times) == 40  # the area under the ramp
    first_half = sum(1 for t in times if t < 2)
    assert first_half == 10  # a quarter of the users arrive in the first half
    assert arrival_times(Phase("flat", duration=2, rate=5)) == [k / 5 for k in range(10)]
