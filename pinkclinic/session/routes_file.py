"""``routes.json``: the load generator's per-request trace, by route, for doctor.

The trace (:attr:`pinkclinic.load.core.result.LoadResult.trace`) holds, per request,
the step of the ``--requests`` sequence it was, when it was sent and answered
(perf_counter microseconds: ``CLOCK_MONOTONIC``, one clock for the load's worker
process and this one) and its status (0: failed). Here each step becomes a route
(:func:`pinkclinic.analysis.routes.path_template`: no query string, ids collapsed,
secrets masked; steps with the same template are one route) and times become epoch
milliseconds from ``t0``. See docs/recording-format.md ("routes.json").
"""

from __future__ import annotations

import time

from pinkclinic.analysis.routes import route_key
from pinkclinic.jsonio import write_json
from pinkclinic.load.core.stats import TRACE_FIELDS
from pinkclinic.recording import Recording

ROUTES_FILE = "routes.json"
SCHEMA_VERSION = 1


def routes_doc(result, templates, offset_us: float | None = None) -> dict:
    """The ``routes.json`` document of a traced ``LoadResult`` whose spec's templates are
    ``templates`` (``spec.templates()``); ``offset_us`` turns the trace's perf_counter
    microseconds into epoch ones (measured now when not given)."""
    keys: list[tuple[str, str]] = []
    step_route: list[int] = []
    for t in templates:
        key = route_key(t.method, t.path)
        if key not in keys:
            keys.append(key)
        step_route.append(keys.index(key))
    trace = result.trace or []
    if offset_us is None:
        offset_us = (time.time() - time.perf_counter()) * 1e6  # perf_counter µs -> epoch µs
    t0 = round(result.start, 3)
    base_us = t0 * 1e6 - offset_us
    route, start, dur, status = [], [], [], []
    for i in range(0, len(trace) - TRACE_FIELDS + 1, TRACE_FIELDS):
        step, sent, answered, st = trace[i:i + TRACE_FIELDS]
        route.append(step_route[step] if 0 <= step < len(step_route) else 0)
        start.append(round((sent - base_us) / 1000, 2))
        dur.append(round((answered - sent) / 1000, 3))
        status.append(int(st))
    return {"schema_version": SCHEMA_VERSION, "source": "load", "t0": t0,
            "routes": [{"method": m, "path": p} for m, p in keys],
            "requests": {"route": route, "start_ms": start, "dur_ms": dur, "status": status},
            "dropped": int(result.trace_dropped)}


def write_routes(rec: Recording, result, templates, offset_us: float | None = None) -> None:
    write_json(rec.file(ROUTES_FILE), routes_doc(result, templates, offset_us),
               indent=None)  # compact: one entry per request
    rec.register("routes", ROUTES_FILE, format="json", schema_version=SCHEMA_VERSION)
