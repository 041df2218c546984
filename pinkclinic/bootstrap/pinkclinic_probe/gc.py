"""Feature ``gc``: garbage-collection pauses, through ``gc.callbacks``.

The callback runs in the thread whose allocation triggered the collection, so the
stack above it is the allocating code.

Collections can run thousands of times a second, so the callback does little:
- a pause of ``gc_record_ms`` (5) or more gets its own ``gc`` record with the stack
  (at most ``gc_records_per_s`` (20) a second; the rest are summed);
- shorter pauses are summed per generation into one ``gcsum`` record every
  ``gc_interval_ms`` (1000), with a sample of their triggering stacks (at most one
  stack every ``gc_stack_every_ms`` (10)).
"""
import gc
import threading
import time

from ._stacks import caller_key, render

_perf = time.perf_counter
MAX_SUM_STACKS = 20


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
        self.items = []
        self.budget = self.per_interval
        self.last_stack = 0.0
        self.since = time.time()

    def callback(self, phase, info):
        try:
            if phase == "start":
                self.t0 = _perf()
                return
            t0, self.t0 = self.t0, None
            if t0 is None:
                return
            now = _perf()
            dur = now - t0
            gen = info.get("generation")
            if dur >= self.record_s and self.budget > 0:
                self.budget -= 1
                self.probe.write({"type": "gc", "t": time.time() - dur,
                                  "dur_ms": round(dur * 1000, 3), "gen": gen,
                                  "collected": info.get("collected"),
                                  "uncollectable": info.get("uncollectable"),
                                  "thread_id": threading.get_native_id(),
                                  "stack": render(caller_key(1))})
                return
            key = None
            if now - self.last_stack >= self.stack_every_s:
                self.last_stack = now
                key = caller_key(1)
            self.items.append((gen, dur, info.get("collected", 0),
                               info.get("uncollectable", 0), key))
        except Exception:
            pass

    def flush(self):
        items, self.items = self.items, []
        self.budget = self.per_interval
        now = time.time()
        since, self.since = self.since, now
        by_gen = {}
        for gen, dur, collected, uncollectable, key in items:
            s = by_gen.get(gen)
            if s is None:
                s = by_gen[gen] = {"n": 0, "dur": 0.0, "max": 0.0, "collected": 0,
                                   "uncollectable": 0, "stacks": {}}
            s["n"] += 1
            s["dur"] += dur
            s["max"] = max(s["max"], dur)
            s["collected"] += collected or 0
            s["uncollectable"] += uncollectable or 0
            if key:
                st = s["stacks"].setdefault(key, [0, 0.0])
                st[0] += 1
                st[1] += dur
        for gen in sorted(by_gen, key=lambda g: -1 if g is None else g):
            s = by_gen[gen]
            stacks = sorted(s["stacks"].items(), key=lambda kv: -kv[1][1])[:MAX_SUM_STACKS]
            self.probe.write({"type": "gcsum", "t": now, "gen": gen, "n": s["n"],
                              "interval_ms": round((now - since) * 1000, 1),
                              "dur_ms": round(s["dur"] * 1000, 3),
                              "max_ms": round(s["max"] * 1000, 3),
                              "collected": s["collected"], "uncollectable": s["uncollectable"],
                              "stacks": [{"stack": render(k), "n": v[0],
                                          "dur_ms": round(v[1] * 1000, 3)}
                                         for k, v in stacks]})


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
