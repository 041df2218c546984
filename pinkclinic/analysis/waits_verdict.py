"""Which wait slows requests down: a backend (io-wait), a pool (pool-exhausted) or a
lock (lock-contention), from the wait sites of :mod:`.waits`.

Kinds fall into classes (``waits.KIND_CLASS``): ``io`` (sockets, and sleeps standing
for a backend), ``pool`` (semaphores, queues, executors, conditions), ``lock``. When
requests are slow (median latency at least ``SLOW_P50_MS``; for io, ``IO_SLOW_P50_MS``)
and one class holds most of the request time, its verdict is given, whatever the CPU:

* ``pool``: at least ``QUEUE_SHARE`` of request time -> pool-exhausted;
* ``lock``: at least ``QUEUE_SHARE`` -> lock-contention;
* ``io``: at least ``IO_SHARE`` -> io-wait.

When several classes pass their bar, the one with the largest share leads; on a tie
in-process queueing comes first (pool, then lock, then io): a pool in front of a slow
backend is a pool problem while requests wait longer for the pool than in the backend.
The culprits are the class's sites, the first one the largest, each with its kind,
resource and waiters, and like every culprit (:mod:`.culprits`) the library call it
waits in as its ``via`` (``load_invoice`` via ``Semaphore.acquire``).
"""

from __future__ import annotations

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import ISSUE, NONE, Culprit, Finding, clamp01, insufficient
from pinkclinic.analysis.io_wait import IO_LATENCY_FULL_MS, IO_LATENCY_P50_MS, latency_p50
from pinkclinic.analysis.waits import KIND_CLASS, Site, WaitProfile, wait_profile

SLOW_P50_MS = 5.0  # below this median latency, waits are not worth a verdict
QUEUE_SHARE = 0.4  # of request time queued for a pool or a lock
IO_SHARE = 0.5  # of request time waiting outside, for io-wait whatever the CPU
IO_SLOW_P50_MS = IO_LATENCY_P50_MS  # io-wait's own latency bar, the io analyser's
CATEGORIES = {"pool": "pool-exhausted", "lock": "lock-contention", "io": "io-wait"}
WORDS = {"pool": "queue for a limited pool", "lock": "queue on a lock",
         "io": "wait on something outside the process"}


def holders(profile: WaitProfile, site: Site) -> float:
    """Tasks inside the lock or pool on average: those whose stacks pass through the
    site's function at another line (past its acquire), waiting on anything else."""
    inside = 0.0
    for other in profile.sites:
        if other is site or (other.kind, other.resource) == (site.kind, site.resource):
            continue
        for stack, ts in other.stacks.items():
            if any(f[0] == site.function and f[1] == site.file and int(f[2]) != site.line
                   for f in stack):
                inside += ts
    return inside / profile.duration if profile.duration else 0.0


def requests_per_s(data: RecordingData) -> float | None:
    w = data.window
    rows = [r for r in data.load_timeline if w is None or w.contains(r.get("t", 0) + 0.5)]
    secs = sum(float(r.get("dur_s") or 1.0) for r in rows)
    return sum(int(r.get("requests") or 0) for r in rows) / secs if secs else None


def culprit(site: Site, profile: WaitProfile | None = None, rps: float | None = None) -> Culprit:
    extra = {"kind": site.kind, "resource": site.resource,
             "mean_waiters": round(site.mean_waiters, 2), "max_waiters": round(site.max_waiters, 2)}
    extra.update({k: v for k, v in site.detail.items() if k in ("size", "busy", "queued", "value")})
    if profile is not None and site.kind in ("lock", "semaphore", "queue", "condition"):
        inside = holders(profile, site)
        extra["holders"] = round(inside, 2)  # a pool's size in use, when it is always full
        if rps:  # Little's law, one acquisition per request
            extra["held_ms"] = round(1000 * inside / rps, 2)
    via = site.via
    if via is not None:
        extra["via"] = via
    return Culprit(site.function, site.file, site.line, site.share, extra)


def describe(site: Site) -> str:
    what = site.kind + (f" {site.resource}" if site.resource else "")
    return (f"{100 * site.share:.0f}% of request time waits on {what} in {site.function} "
            f"({site.file.rsplit('/', 1)[-1]}:{site.line}), {site.mean_waiters:.1f} waiting at "
            f"once (max {site.max_waiters:.0f})")


def _held(c: Culprit) -> str:
    x = c.extra
    if x.get("kind") == "lock" and x.get("held_ms") is not None:
        return f"; the lock is held about {x['held_ms']:.0f} ms each time"
    size = x.get("size") or (round(x["holders"]) if x.get("holders") else None)
    if size and x.get("kind") in ("semaphore", "queue", "executor"):
        return f"; the pool of {size} is always full" if x.get("size") or x.get("value") == 0 \
            else f"; about {size} inside it at once"
    return ""


def evidence_of(profile: WaitProfile, p50: float | None) -> dict:
    return {"latency_p50_ms": None if p50 is None else round(p50, 2),
            "request_seconds": round(profile.request_seconds, 3),
            "snapshots": len(profile.snapshots), "loops": profile.loops,
            "shares": {c: round(profile.class_share(c), 4) for c in ("io", "pool", "lock", "cpu")},
            "background": [f"{s.function} ({s.kind})" for s in profile.background]}


def analyse(data: RecordingData) -> Finding:
    profile = wait_profile(data)
    if profile is None:
        f = insufficient("waits", "no asyncio task snapshots in the window (no event loop, "
                                  "or the probe was not loaded)")
        if data.probe.get("tasks") or not data.has_probe:  # tasks not walked, or no probe
            f.missing = ["waits"]
        return f
    p50 = latency_p50(data)
    evidence = evidence_of(profile, p50)
    if not profile.request_seconds:
        return Finding(signal="waits", status=NONE, evidence=evidence,
                       summary="no request was seen waiting")
    passed = []  # (share, cls, its sites): the classes past their bars, in tie order
    for cls, bar, slow in (("pool", QUEUE_SHARE, SLOW_P50_MS), ("lock", QUEUE_SHARE, SLOW_P50_MS),
                           ("io", IO_SHARE, IO_SLOW_P50_MS)):
        share = profile.class_share(cls)
        if share < bar or p50 is None or p50 < slow:
            continue
        sites = [s for s in profile.sites if KIND_CLASS.get(s.kind) == cls]
        if sites:
            passed.append((share, cls, sites))
    if passed:
        share, cls, sites = max(passed, key=lambda x: x[0])  # the first of equal shares
        top = sites[0]
        culprits = [culprit(s, profile, requests_per_s(data)) for s in sites[:5]]
        evidence.update(site=top.to_dict(), **{k: culprits[0].extra[k] for k in
                                               ("holders", "held_ms", "size") if k in culprits[0].extra})
        return Finding(signal="waits", status=ISSUE, category=CATEGORIES[cls],
                       severity=clamp01((0.3 + 0.7 * p50 / IO_LATENCY_FULL_MS) * (0.5 + share)),
                       evidence=evidence, culprits=culprits,
                       summary=f"requests {WORDS[cls]}: {describe(top)}{_held(culprits[0])}")
    top = profile.sites[0] if profile.sites else None
    return Finding(signal="waits", status=NONE, evidence=evidence,
                   summary=describe(top) if top else "no request was seen waiting")
