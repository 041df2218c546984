"""Feature ``gc``: garbage-collection pauses, through ``gc.callbacks``.

The callback runs in the thread whose allocation triggered the collection, so the
stack above it is the allocating code.

A registered callback costs the interpreter a dict and two calls per collection (a
few µs, whatever the callback does: ``bench/probe_hooks.py``); the callback adds as
little as it can to that: two clock reads and a few additions to per-generation
counters kept in place, no container allocated (which would feed the young generation
itself), no lock, no write. Formatting is the sampler thread's, once an interval; the
counts freed come from ``gc.get_stats()`` there.

The callback:
- a pause of ``gc_record_ms`` (5) or more gets its own ``gc`` record with the stack
  (at most ``gc_records_per_s`` (20) a second; the rest are summed);
- shorter pauses are summed per generation into one ``gcsum`` record every
  ``gc_interval_ms`` (1000), with a sample of their triggering stacks (the interval's
  first pause's, then at most one every ``gc_stack_every_ms`` (10), per generation).
"""
import gc
import threading
import time

from ._stacks import caller_key, render

_perf = time.perf_counter
MAX_SUM_STACKS = 20
GENS = 3


def _stats():
    """Per generation: [collections, collected, uncollectable], cumulative."""
    return [[s.get("collections", 0), s.get("collected", 0), s.get("uncollectable", 0)]
            for s in gc.get_stats()[:GENS]]


class _GcProbe:
    def __init__(self, probe):
        self.probe = probe
        self.record_s = probe.opt("gc_record_ms", 5) / 1000.0
        self.interval_s = probe.opt("gc_interval_ms", 1000) / 1000.0
        self.per_interval = max(1, int(probe.opt("gc_records_per_s", 20) * self.interval_s))
        self.stack_every_s = probe.opt("gc_stack_every_ms", 10) / 1000.0
        self.reset()

    def reset(self):
        self.t0 = None
        # per generation, the pauses seen since the last flush, as plain numbers (the
        # callback allocates no container: it would feed the young generation itself)
        self.seen_n = [0] * GENS
        self.seen_dur = [0.0] * GENS
        self.seen_max = [0.0] * GENS
        self.recorded_freed = [[0, 0] for _ in range(GENS)]  # by pauses with a ``gc`` record
        self.stacks = []  # (gen, dur, key), at most one per stack_every_s per generation
        self.budget = self.per_interval
        self.last_stack = [0.0] * GENS
        self.since = time.time()
        self.base = _stats()

    def callback(self, phase, info):
        if phase == "start":
            self.t0 = _perf()
            return
        now = _perf()
        try:
            t0, self.t0 = self.t0, None
            if t0 is None:
                return
            dur = now - t0
            gen = info["generation"]
            if dur >= self.record_s and self.budget > 0:
                self._record(dur, gen, info)
                return
            self.seen_n[gen] += 1
            self.seen_dur[gen] += dur
            if dur > self.seen_max[gen]:
                self.seen_max[gen] = dur
            if now - self.last_stack[gen] >= self.stack_every_s:
                self.last_stack[gen] = now
                self.stacks.append((gen, dur, caller_key(1)))
        except Exception:
            pass

    def _record(self, dur, gen, info):
        self.budget -= 1
        freed = self.recorded_freed[gen]
        freed[0] += info.get("collected") or 0
        freed[1] += info.get("uncollectable") or 0
        self.probe.defer({"type": "gc", "t": time.time() - dur,
                          "dur_ms": round(dur * 1000, 3), "gen": gen,
                          "collected": info.get("collected"),
                          "uncollectable": info.get("uncollectable"),
                          "thread_id": threading.get_native_id(),
                          "stack": render(caller_key(2))})

    # -- the sampler thread ---------------------------------------------------------
    def flush(self):
        now = time.time()
        since, self.since = self.since, now
        self.budget = self.per_interval
        stats, base = _stats(), self.base
        self.base = stats
        seen = list(zip(self.seen_n, self.seen_dur, self.seen_max))
        self.seen_n, self.seen_dur, self.seen_max = [0] * GENS, [0.0] * GENS, [0.0] * GENS
        stacks, self.stacks = self.stacks, []
        # each interval's first pause of each generation gets a stack, however short the
        # interval (the last, cut short by the exit, often lasts less than stack_every_s)
        self.last_stack = [0.0] * GENS
        freed, self.recorded_freed = self.recorded_freed, [[0, 0] for _ in range(GENS)]
        by_gen = {}
        for gen, dur, key in stacks:
            st = by_gen.setdefault(gen, {}).setdefault(key, [0, 0.0])
            st[0] += 1
            st[1] += dur
        for gen in range(GENS):
            n, dur, longest = seen[gen]
            if not n:
                continue
            top = sorted(by_gen.get(gen, {}).items(), key=lambda kv: -kv[1][1])[:MAX_SUM_STACKS]
            self.probe.write({"type": "gcsum", "t": now, "gen": gen, "n": n,
                              "interval_ms": round((now - since) * 1000, 1),
                              "dur_ms": round(dur * 1000, 3),
                              "max_ms": round(longest * 1000, 3),
                              "collected": max(0, stats[gen][1] - base[gen][1] - freed[gen][0]),
                              "uncollectable": max(0, stats[gen][2] - base[gen][2]
                                                   - freed[gen][1]),
                              "stacks": [{"stack": render(k), "n": v[0],
                                          "dur_ms": round(v[1] * 1000, 3)}
                                         for k, v in top]})


def _stop(g):
    """At exit: the collections of interpreter teardown are not the target's."""
    try:
        gc.callbacks.remove(g.callback)
    except ValueError:
        pass
    g.flush()


def install(probe):
    g = _GcProbe(probe)
    gc.callbacks.append(g.callback)
    probe.every(g.interval_s, g.flush, "gc")
    probe.on_exit(lambda: _stop(g))
    probe.on_fork(g.reset)
    return {"gc_record_ms": g.record_s * 1000, "gc_interval_ms": g.interval_s * 1000}
