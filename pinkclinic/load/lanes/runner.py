"""``run_lanes``: run the lane engine (:mod:`pinkclinic.load.lanes.engine`) on its own event loop
and turn its bins into the usual :class:`~pinkclinic.load.core.result.LoadResult`."""

from __future__ import annotations

from collections.abc import Callable

from pinkclinic.load.core.loop import run_on_new_loop
from pinkclinic.load.core.result import LoadResult
from pinkclinic.load.core.stats import Aggregator
from pinkclinic.load.lanes.engine import LaneEngine


def run_lanes(spec, make_lanes: Callable[[], list], on_tick=None, stop=None,
              per_lane: int | None = None):
    """Run ``make_lanes()`` (called on the run's own event loop) and return a LoadResult."""
    async def main():
        agg = Aggregator(1, 0.0, on_tick)
        eng = LaneEngine(spec, lambda b: _bin(agg, eng, b), stop=stop, per_lane=per_lane)
        end = await eng.run(make_lanes())
        agg.finish()
        duration = (end["end_ns"] - eng.t0_ns) / 1e9 if end["connected"] else 0.0
        return LoadResult.from_aggregate(spec, agg, duration=duration, inflight=end["inflight"],
                                         interrupted=end["interrupted"], ended_by=end["ended_by"],
                                         unsent=end["unsent"], deadline_s=end["deadline_s"])

    return run_on_new_loop(main())


def _bin(agg, eng: LaneEngine, b: dict) -> None:
    if not agg.t0:
        agg.t0 = eng.t0_epoch
    agg.add(0, b)
