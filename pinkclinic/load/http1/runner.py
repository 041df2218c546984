"""``run_load`` / ``run_load_async``: run a spec in this process or in worker processes.

``workers == 0`` runs the engine on an event loop in the calling thread (uvloop
when installed). ``workers >= 1`` runs it in that many processes
(:mod:`pinkclinic.load.http1.workers`); this process only merges their bins, calls
``on_tick`` and builds the result, so it stays free for other work.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable

from pinkclinic.load.core.loop import run_on_new_loop
from pinkclinic.load.core.result import LoadResult
from pinkclinic.load.core.spec import LoadSpec
from pinkclinic.load.core.stats import Aggregator
from pinkclinic.load.http1.engine import Engine

OnTick = Callable[[dict], None]


def run_load(spec: LoadSpec, on_tick: OnTick | None = None,
             stop: threading.Event | None = None) -> LoadResult:
    """Run the load described by ``spec`` and return its result.

    ``on_tick(record)`` gets each ``load.jsonl`` record as its second ends, in
    this process. Setting ``stop`` ends the run within ~0.1 s, with the results so far.
    """
    if spec.workers:
        from pinkclinic.load.http1.workers import run_workers

        return run_workers(spec, on_tick, stop)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass  # no loop running in this thread: the usual case
    else:
        raise RuntimeError("run_load() was called inside a running event loop; "
                           "use 'await run_load_async(...)' there")
    return run_on_new_loop(_run_here(spec, on_tick, stop))


async def run_load_async(spec: LoadSpec, on_tick: OnTick | None = None,
                         stop: threading.Event | None = None) -> LoadResult:
    """The async variant: in-process runs share the caller's loop; workers run in a thread."""
    if spec.workers:
        from pinkclinic.load.http1.workers import run_workers

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(run_workers, spec, on_tick, stop))
    return await _run_here(spec, on_tick, stop)


async def _run_here(spec: LoadSpec, on_tick: OnTick | None, stop) -> LoadResult:
    agg = Aggregator(1, 0.0, on_tick)
    eng = Engine(spec, lambda b: _first_bin(agg, eng, b), stop=stop)
    try:
        await eng.connect_all()
        end = await eng.run()
    finally:
        eng.close()
        await asyncio.sleep(0)
    agg.finish()
    duration = (end["end_ns"] - eng.t0_ns) / 1e9 if end["started"] else 0.0
    return LoadResult.from_aggregate(spec, agg, duration=duration, inflight=end["inflight"],
                                     interrupted=end["interrupted"],
                                     connecting=end.get("connecting", 0),
                                     ended_by=end.get("ended_by", ""), unsent=end.get("unsent", 0),
                                     deadline_s=end.get("deadline_s", 0.0))


def _first_bin(agg: Aggregator, eng: Engine, b: dict) -> None:
    if not agg.t0:
        agg.t0 = eng.t0_epoch
    agg.add(0, b)
