"""Wait sites: where requests wait, on what, how many at once (the probe's ``waits``).

Each ``waits`` record is one snapshot of a loop's suspended tasks, grouped by logical
stack and leaf (kind, resource), and stands for ``dt_ms`` of time. A group's weight
times ``dt`` is task-seconds. A **site** is the innermost frame of the user's code on
the stack (``culprits.culprit_frame``, the one rule for every verdict's culprits) with
the leaf's kind and resource; it keeps every stack that led to it.

Only tasks and threads that serve requests count. Thread records (``source: "threads"``)
of executor workers in a process that runs an event loop are left out: a task awaits
their work and already counts its time. A stack without any of the user's code at work
(``culprits.user_frames``) is the framework waiting for work (an idle keep-alive
connection, a process manager's control loop), and so is one that ends in a server's
accept loop (``culprits.serves_no_request``: ``serve_forever`` awaited from ``main``).
A site whose outermost frame is the user's own code, that is there in nearly every
snapshot and never twice at once, is a background task (a heartbeat, a metrics
flusher): it is left out and listed as such.

``share`` is a site's task-seconds over the request time: every counted task-second,
plus the serving processes' CPU seconds in the window (the on-CPU part a snapshot,
taken between callbacks, cannot see). ``mean_waiters`` is task-seconds over the
window (Little's law); ``max_waiters`` the most seen at once, summed over the loops and
processes (each as its latest snapshot says).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pinkclinic.analysis.culprits import culprit_frame, is_app_file, user_frames, via_of
from pinkclinic.analysis.data import RecordingData

SCHEMA_VERSION = 1  # of waits.json
BIN_S = 0.25  # timeline resolution
BACKGROUND_PRESENCE = 0.8  # in at least this share of its loop's snapshots...
MAX_STACKS_PER_SITE = 8
# worker threads of executors: in a process with an event loop, what they run is awaited
# by a task, counted at the task's executor (or other) leaf; without a loop (gthread)
# they are the request threads themselves
OFFLOAD_FILES = ("concurrent/futures/thread.py", "anyio/_backends/_asyncio.py")
# what each kind of leaf means for a verdict
KIND_CLASS = {"socket": "io", "sleep": "io", "lock": "lock", "semaphore": "pool",
              "queue": "pool", "executor": "pool", "condition": "pool", "ready": "cpu",
              "event": "other", "task": "other", "other": "other"}


@dataclass
class Site:
    function: str
    file: str
    line: int
    kind: str
    resource: str
    task_seconds: float = 0.0
    share: float = 0.0
    mean_waiters: float = 0.0
    max_waiters: float = 0.0
    detail: dict[str, Any] = field(default_factory=dict)
    stacks: dict[tuple, float] = field(default_factory=dict)
    per_snapshot: dict[int, float] = field(default_factory=dict)  # snapshot index -> count
    outermost_app: bool = False

    @property
    def via(self) -> dict | None:
        """The library call most of the site's wait is in (``Semaphore.acquire``), or None."""
        return via_of(self.stacks.items())

    def to_dict(self, timeline: list[float] | None = None) -> dict[str, Any]:
        top = sorted(self.stacks.items(), key=lambda kv: -kv[1])[:MAX_STACKS_PER_SITE]
        out = {"function": self.function, "file": self.file, "line": self.line,
               "kind": self.kind, "resource": self.resource, "share": round(self.share, 4),
               "task_seconds": round(self.task_seconds, 4),
               "mean_waiters": round(self.mean_waiters, 2),
               "max_waiters": round(self.max_waiters, 2), "detail": self.detail,
               "stack": [list(f) for f in top[0][0]] if top else [],
               "stacks": [{"stack": [list(f) for f in st], "task_seconds": round(ts, 4)}
                          for st, ts in top]}
        via = self.via
        if via is not None:
            out["via"] = via
        if timeline is not None:
            out["timeline"] = timeline
        return out


@dataclass
class WaitProfile:
    start: float
    duration: float
    sites: list[Site]
    background: list[Site]
    kinds: dict[str, float]  # kind -> task-seconds (plus "cpu": CPU seconds)
    request_seconds: float  # task-seconds counted plus CPU seconds
    snapshots: list[tuple[float, float, int, int]]  # (t, dt, pid, thread_id)
    worst: dict[str, Any]
    loops: int  # the (pid, thread) streams of snapshots: event loops and thread samplers
    event_loops: int = 0  # event loops with a task serving requests; 0: the threads' view only

    @property
    def empty(self) -> bool:
        return not self.snapshots

    def class_share(self, cls: str) -> float:
        if not self.request_seconds:
            return 0.0
        return sum(ts for k, ts in self.kinds.items() if KIND_CLASS.get(k, k) == cls) \
            / self.request_seconds

    @cached_property
    def _bins(self) -> tuple[int, list[int], list[tuple[int, int]]]:
        nbins = max(1, int(self.duration / BIN_S + 0.999))
        return nbins, [min(nbins - 1, max(0, int((t - self.start) / BIN_S)))
                       for t, _dt, _p, _tid in self.snapshots], \
            [(p, tid) for _t, _dt, p, tid in self.snapshots]

    def timeline(self, site: Site) -> list[float]:
        """Mean waiters at the site per BIN_S bin, summed over loops."""
        nbins, bins, loops = self._bins
        seen: dict[tuple, list[int]] = defaultdict(lambda: [0] * nbins)
        for i, b in enumerate(bins):
            seen[loops[i]][b] += 1
        sums: dict[tuple, list[float]] = defaultdict(lambda: [0.0] * nbins)
        for i, n in site.per_snapshot.items():
            sums[loops[i]][bins[i]] += n
        out = [0.0] * nbins
        for loop, row in sums.items():
            for b, v in enumerate(row):
                if seen[loop][b]:
                    out[b] += v / seen[loop][b]
        return [round(v, 2) for v in out]


def _outermost_app(stack: list) -> bool:
    """The stack starts in the user's code (a thread's ``threading`` bootstrap aside)."""
    for f in stack:
        if not str(f[1]).replace("\\", "/").endswith("/threading.py"):
            return is_app_file(str(f[1]))
    return False


def _offloaded(stack: list) -> bool:
    """A worker thread running what a task awaits (its time is the task's already)."""
    return any(str(f[1]).replace("\\", "/").endswith(OFFLOAD_FILES) for f in stack)


def wait_profile(data: RecordingData) -> WaitProfile | None:
    """The sites of the window's ``waits`` records (v2, or v3 as the reader gives them), or
    None without any."""
    records = [r for r in data.probe_in_window("waits") if r.get("leaves") is not None]
    w = data.window
    if not records:
        return None
    records.sort(key=lambda r: r.get("t", 0.0))
    start = w.start if w is not None else records[0]["t"]
    duration = w.duration if w is not None else max(1e-9, records[-1]["t"] - start)
    sites: dict[tuple, Site] = {}
    kinds: dict[str, float] = defaultdict(float)
    snapshots, per_loop = [], defaultdict(int)
    worst: dict[str, Any] = {"t": None, "tasks": -1.0, "stacks": []}
    names: dict[tuple, str] = {}
    seen: dict[tuple, tuple] = {}
    on_loop = [r.get("source") != "threads" for r in records]  # a task snapshot, not threads'
    loop_pids = {int(r.get("pid") or 0) for r, tasks in zip(records, on_loop) if tasks}
    task_loops = set()  # the event loops with a task that serves requests
    # (stack, kind, raw resource, pid) -> (the Site or None, stack tuple, kind, resource):
    # the same groups come back in every snapshot, each resolved once
    groups: dict[tuple, tuple] = {}
    last_leaf: dict[int, dict] = {}  # id(site) -> the leaf of its latest group
    tuples: dict[int, tuple] = {}  # id(stack list) -> the stack as a tuple
    for i, r in enumerate(records):
        dt = float(r.get("dt_ms") or 0.0) / 1000.0
        loop = (int(r.get("pid") or 0), int(r.get("thread_id") or 0))
        snapshots.append((float(r["t"]), dt, *loop))
        per_loop[loop] += 1
        serving = []
        offload = not on_loop[i] and loop[0] in loop_pids
        for (stack, count), leaf in zip(r.get("stacks", []), r.get("leaves", [])):
            # v3 records share one list per stack: keyed by its id (every record, and so
            # every stack, lives as long as this loop), its content hashed once
            st = tuples.get(id(stack))
            if st is None:
                st = tuples[id(stack)] = tuple(map(tuple, stack))
            kind = str(leaf.get("kind", "other"))
            gkey = (st, kind, str(leaf.get("resource", "")), loop[0], offload)
            g = groups.get(gkey)
            if g is None:
                g = groups[gkey] = _group(st, stack, kind, leaf, loop[0], offload, seen,
                                          names, sites)
            site, kind, resource, st = g  # st: the first copy, its strings' hashes known
            if site is None:
                continue
            ts = float(count) * dt
            site.task_seconds += ts
            site.stacks[st] = site.stacks.get(st, 0.0) + ts
            site.per_snapshot[i] = site.per_snapshot.get(i, 0.0) + float(count)
            last_leaf[id(site)] = leaf
            kinds[kind] += ts
            serving.append([stack, count, kind, resource])
        if serving and on_loop[i]:
            task_loops.add(loop)
        n = sum(float(s[1]) for s in serving)
        if n > worst["tasks"]:
            worst = {"t": r["t"], "tasks": n, "pid": loop[0], "stacks": serving}
    for site in sites.values():
        leaf = last_leaf.get(id(site), {})
        site.detail = {k: v for k, v in leaf.items() if k not in ("kind", "resource")}
    counted, background = _split_background(sites, snapshots, per_loop)
    for site in background:
        kinds[site.kind] -= site.task_seconds
    cpu_s = _cpu_seconds(data, {p for _t, _d, p, _tid in snapshots})
    if cpu_s:
        kinds["cpu"] = cpu_s
    request_s = sum(v for v in kinds.values() if v > 0)
    for site in counted:
        site.share = site.task_seconds / request_s if request_s else 0.0
        site.mean_waiters = site.task_seconds / duration if duration else 0.0
    at_once = _at_once(snapshots)
    for site in counted:
        site.max_waiters = at_once(site)
    counted.sort(key=lambda s: (-s.task_seconds, s.function, s.resource))
    return WaitProfile(start=start, duration=duration, sites=counted, background=background,
                       kinds={k: v for k, v in kinds.items() if v > 1e-9},
                       request_seconds=request_s, snapshots=snapshots, worst=worst,
                       loops=len(per_loop), event_loops=len(task_loops))


def _group(st: tuple, stack: list, kind: str, leaf: dict, pid: int, offload: bool,
           seen: dict, names: dict, sites: dict) -> tuple:
    """(the site of a (stack, leaf) group, or None if it does not count; kind; resource;
    the stack as a tuple)."""
    if offload and _offloaded(stack):
        return None, kind, "", st
    if st not in seen:
        # no user frame doing work: the framework waiting for work, no site
        frame = culprit_frame(stack) if user_frames(stack) else None
        seen[st] = (frame, _outermost_app(stack))
    frame, outermost_app = seen[st]
    if frame is None:
        return None, kind, "", st
    resource = _resource_name(str(leaf.get("resource", "")), pid, names)
    key = (str(frame[0]), str(frame[1]), kind, resource)
    site = sites.get(key)
    if site is None:
        site = sites[key] = Site(str(frame[0]), str(frame[1]), int(frame[2]), kind, resource,
                                 outermost_app=outermost_app)
    return site, kind, resource, st


def _resource_name(raw: str, pid: int, names: dict[tuple, str]) -> str:
    """``asyncio.Lock@7f..`` (an object's address in one process) -> ``asyncio.Lock #1``,
    numbered per type in the order first seen."""
    kind, at, _addr = raw.partition("@")
    if not at:
        return raw
    key = (pid, raw)
    if key not in names:
        n = 1 + sum(1 for (_p, r) in names if r.partition("@")[0] == kind)
        names[key] = f"{kind} #{n}"
    return names[key]


def _at_once(snapshots: list[tuple]):
    """``site -> the most waiters at once``, summed over loops: each loop (and each
    process's threads) counts as its latest snapshot says until its next one. The most
    in one snapshot undercounts a site served by several processes (gunicorn's workers),
    below the mean of all of them."""
    loops = {s[2:] for s in snapshots}
    if len(loops) <= 1:
        return lambda site: max(site.per_snapshot.values(), default=0.0)
    order = sorted(range(len(snapshots)), key=lambda i: snapshots[i][0])
    loop_of = [s[2:] for s in snapshots]

    def most(site: Site) -> float:
        now: dict[tuple, float] = {}
        total = best = 0.0
        for i in order:
            n = site.per_snapshot.get(i, 0.0)
            lp = loop_of[i]
            total += n - now.get(lp, 0.0)
            now[lp] = n
            best = max(best, total)
        return best
    return most


def _split_background(sites: dict[tuple, Site], snapshots, per_loop) -> tuple[list, list]:
    counted, background = [], []
    for site in sites.values():
        loops = defaultdict(int)
        for i in site.per_snapshot:
            loops[snapshots[i][2:]] += 1
        presence = max((n / per_loop[lp] for lp, n in loops.items()), default=0.0)
        alone = max(site.per_snapshot.values(), default=0.0) <= 1.0
        if site.outermost_app and alone and presence >= BACKGROUND_PRESENCE:
            background.append(site)
        else:
            counted.append(site)
    return counted, background


def _cpu_seconds(data: RecordingData, pids: set[int]) -> float:
    usage, w = data.cpu, data.window
    if usage is None or w is None:
        return 0.0
    return sum(p.get("mean", 0.0) for pid, p in usage.per_process.items() if pid in pids) \
        * w.duration


def _tree(weighted: list[tuple[list, float, str]]) -> dict[str, Any]:
    """Stacks (outermost first) merged into a tree: {name, file, line, value, kinds, children}."""
    root: dict[str, Any] = {"name": "all requests", "file": "", "line": 0, "value": 0.0,
                            "kinds": {}, "children": {}}
    for stack, value, kind in weighted:
        node = root
        for frames in [None, *stack]:
            if frames is not None:
                key = (str(frames[0]), str(frames[1]))
                child = node["children"].get(key)
                if child is None:
                    child = node["children"][key] = {"name": key[0], "file": key[1],
                                                     "line": int(frames[2]), "value": 0.0,
                                                     "kinds": {}, "children": {}}
                node = child
            node["value"] += value
            node["kinds"][kind] = node["kinds"].get(kind, 0.0) + value

    def done(node):
        node["value"] = round(node["value"], 4)
        node["kinds"] = {k: round(v, 4) for k, v in sorted(node["kinds"].items())}
        node["children"] = [done(c) for c in sorted(node["children"].values(),
                                                     key=lambda c: (-c["value"], c["name"]))]
        return node
    return done(root)


THREADS_ONLY = ("no event loop was seen: these are the waits of the threads that serve "
                "requests (a sync WSGI app, or threads beside an unwatched loop)")


def threads_only(waits: dict) -> str | None:
    """The one line that says a ``waits.json`` holds the threads' view alone, or None."""
    return THREADS_ONLY if waits.get("sites") and waits.get("event_loops") == 0 else None


def waits_json(profile: WaitProfile, top: int = 50) -> dict[str, Any]:
    """``waits.json``: the sites by share, the split of request time, the flame graph of
    logical stacks and the task tree at the busiest snapshot."""
    total = profile.request_seconds or 1.0
    flame = [(list(st), ts, s.kind) for s in profile.sites for st, ts in s.stacks.items()]
    worst = profile.worst
    return {
        "schema_version": SCHEMA_VERSION,
        "window": {"start": profile.start, "duration_s": round(profile.duration, 3)},
        "request_seconds": round(profile.request_seconds, 4),
        "split": {k: round(v / total, 4) for k, v in sorted(profile.kinds.items())},
        "snapshots": len(profile.snapshots), "loops": profile.loops,
        "event_loops": profile.event_loops, "bin_s": BIN_S,
        "sites": [s.to_dict(profile.timeline(s)) for s in profile.sites[:top]],
        "background": [{"function": s.function, "file": s.file, "line": s.line,
                        "kind": s.kind, "resource": s.resource} for s in profile.background],
        "flame": _tree(flame),
        "worst": {"t": worst.get("t"), "pid": worst.get("pid"),
                  "tasks": round(max(0.0, worst.get("tasks", 0.0)), 2),
                  "tree": _tree([(st, float(n), k) for st, n, k, _r in worst.get("stacks", [])])},
    }
