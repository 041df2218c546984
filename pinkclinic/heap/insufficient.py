"""When a heap recording cannot support a verdict, and what to tell the user instead.

Each check returns one sentence for an ``insufficient-data`` verdict, or ``None``:

* :func:`load_problem` - half or more of the load's requests failed (doctor's
  :data:`~pinkclinic.analysis.traffic.LOAD_ERROR_SHARE`, the one threshold for both):
  the code that leaks may never have run, and bytes per request would be priced off
  error pages;
* :func:`steady_problem` - a site grew steadily, but by less than the size floor:
  too little to call a leak, too steady to call the server healthy;
* :func:`untracked_workers` - forked worker processes ran (each left a probe file)
  without a memray capture: the requests they served are invisible.
"""

from __future__ import annotations

from pinkclinic.analysis.traffic import LOAD_ERROR_SHARE
from pinkclinic.heap.diagnosis import rate_text, where
from pinkclinic.heap.suspects import MIN_GROWTH_BYTES
from pinkclinic.heap.timeline import Timeline
from pinkclinic.units import human_bytes

MAX_NAMED_STATUSES = 3


def status_counts(load: dict) -> str:
    """``"4,313 HTTP 500, 12 with no response"``: what the failed requests got back."""
    bad = sorted(((n, s) for s, n in (load.get("status") or {}).items()
                  if not (len(s) == 3 and s[0] in "23") and n), reverse=True)
    parts = [f"{n:,} HTTP {s}" for n, s in bad[:MAX_NAMED_STATUSES]]
    if load.get("no_response"):
        parts.append(f"{load['no_response']:,} with no response")
    return ", ".join(parts) or f"{load.get('failed', 0):,} failed"


def failed_share(load: dict | None) -> float:
    if not load or not load.get("attempts"):
        return 0.0
    return load["failed"] / load["attempts"]


def load_problem(timeline: Timeline | None) -> str | None:
    if timeline is None:
        return None
    load = timeline.load_info()
    if failed_share(load) < LOAD_ERROR_SHARE:
        return None
    return (f"{load['failed']:,} of {load['attempts']:,} requests failed "
            f"({status_counts(load)}; {load['served']:,} got 2xx/3xx), so the code under "
            "test may never have run: fix the requests (the --load path, its parameters) "
            "or the server's errors (see target.log), then rerun")


def steady_problem(steady: list[dict], root: str | None = None) -> str | None:
    if not steady:
        return None
    s = max(steady, key=lambda r: r["growth_bytes"])
    return (f"`{s['function']}` in {where(s, root)} grew steadily at {rate_text(s)} but only "
            f"{human_bytes(s['growth_bytes'])} in total, below the "
            f"{human_bytes(MIN_GROWTH_BYTES)} needed to call it a leak: run the load longer "
            "(a larger -d in --load)")


def untracked_workers(probe_headers: dict[int, dict], captured: set[int], *,
                      follow_fork: bool) -> str | None:
    """Forked children (probe header ``forked``) that have no capture of their own."""
    missing = sorted(pid for pid, h in probe_headers.items() if h.get("forked")
                     and pid not in captured)
    if not missing:
        return None
    pids = ", ".join(str(p) for p in missing[:5]) + (", ..." if len(missing) > 5 else "")
    n = len(missing)
    what = (f"{n} forked worker process{'es' if n > 1 else ''} (PID {pids}) ran without a "
            "memray capture, so the requests they served and what they kept are invisible here")
    if not follow_fork:
        return f"{what}: rerun with --follow-fork (the default; it was turned off)"
    return (f"{what}: memray wrote no file for them (were they killed before they could "
            "start?); rerun, and check target.log")
