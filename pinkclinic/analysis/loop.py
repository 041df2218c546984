"""Event-loop analysis: is a loop thread stalled, and by CPU work or a blocking call?

Evidence comes from the in-process probe: ``lag`` records (how late a tick ran)
and ``block`` records (a stall past the probe's threshold, with the loop
thread's stack captured while it was stalled and whether that thread was on
CPU). Stall time that overlaps a GC pause on the same thread is left to the GC
analyzer: a loop stalled by the collector is gc-pressure, not loop-cpu. A stall whose
stack ends in the selector's wait was not the loop's work (the loop was idle and
its thread did not get the CPU or the GIL back in time): it is left out.

When the issue is a high median lag rather than long stalls (many medium-sized
callbacks, none past the probe's block threshold), the few stall stacks are thin
evidence: the culprits then come from py-spy's samples of the loop thread.

On either path, ticks run one after the other, so their lateness (and the stalls)
add up to time the loop thread spent on something else: its own work, or waiting to
run again. If py-spy saw that thread outside its selector wait for much less time
than it was late, the lag is the second kind (the thread woke but waited for the GIL
or a CPU, as under many threads of pure-Python work): no code on the loop caused it,
and there is no loop issue (:mod:`pinkclinic.analysis.loop_starvation`).
"""

from __future__ import annotations

from collections import defaultdict

from pinkclinic.analysis.culprits import rank
from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import ISSUE, NONE, Finding, clamp01, insufficient
from pinkclinic.analysis.loop_starvation import in_loop_wait, lag_not_the_loops_work
from pinkclinic.analysis.stacks import frames_of, thread_summary

# A loop stalled for >= 10% of the load window is an issue (clinic doctor flags a
# median delay >= 10 ms; a stall share is the same idea, robust to bursty stalls).
STALL_SHARE_ISSUE = 0.10
# ... as is a median lag of 10 ms or more even when no single stall passes the
# probe's block threshold (many medium-sized callbacks).
LAG_P50_ISSUE_MS = 10.0
# Stall time spent on CPU, above which the stalls are CPU work rather than a call
# that waits (time.sleep, a sync socket, a lock).
ON_CPU_SHARE_CPU = 0.5
# Stalls the probe could not classify (no on-CPU flag): the busiest process's p90 CPU
# (cores) at or above which they count as CPU work.
CPU_BUSY_CORES = 0.7
# Stall share at which severity reaches 1.
STALL_SHARE_FULL = 0.5
MIN_LOOP_RECORDS = 3  # lag + stall records; a stalled loop writes few lag records
MIN_LOOP_SAMPLES = 20  # py-spy busy samples of the loop thread to name culprits from


def is_idle_stall(block: dict) -> bool:
    """The stack caught during the stall ends in the loop's own wait: the selector, or
    uvloop's run loop entered from Python (its wait is native code below it): the loop
    was idle. Any other wait on the loop thread (``Condition.wait`` under a
    ``future.result()``, ``Thread.join``, the selector of ``subprocess.run``) is a
    blocking call."""
    stack = block.get("stack") or []
    return in_loop_wait(stack)


def stalls(data: RecordingData) -> list[dict]:
    """The probe's ``block`` records that overlap the load window, idle ones left out."""
    w = data.window
    if w is None:
        return []
    return [b for b in data.probe.get("block", [])
            if w.overlap(b["t"], b["t"] + b.get("dur_ms", 0.0) / 1000) > 0 and not is_idle_stall(b)]


def _pyspy_loop_stacks(data: RecordingData, pid, tid) -> list:
    p = data.window_profile
    for s in thread_summary(data).values() if p is not None else ():
        if s["pid"] == pid and s["tid"] == tid and s["busy"] >= MIN_LOOP_SAMPLES:
            return [(frames_of(p, f), w) for f, w in s["stacks"]]
    return []


def _gc_overlap(block: dict, gcs: list[dict]) -> float:
    t0 = block["t"]
    t1 = t0 + block.get("dur_ms", 0.0) / 1000
    total = 0.0
    for g in gcs:
        g0 = g["t"]
        g1 = g0 + g.get("dur_ms", 0.0) / 1000
        total += max(0.0, min(t1, g1) - max(t0, g0))
    return total


def analyse(data: RecordingData) -> Finding:
    w = data.window
    if w is None or w.duration <= 0:
        return insufficient("loop", "no load window was recorded")
    if not data.has_probe:
        f = Finding(signal="loop", status=NONE, summary="the in-process probe did not run")
        f.missing = ["loop-lag"]
        return f
    lags = data.probe_in_window("lag")
    if not lags and not data.probe.get("loop"):
        return Finding(signal="loop", status=NONE, summary="no asyncio or uvloop event loop ran",
                       evidence={"loops": 0})
    stalls_in_window = stalls(data)
    if len(lags) + len(stalls_in_window) < MIN_LOOP_RECORDS:
        return insufficient("loop", f"only {len(lags)} event-loop lag records in the load window",
                            lag_records=len(lags))

    gcs_by_thread: dict[tuple, list[dict]] = defaultdict(list)
    for g in data.probe.get("gc", []):
        gcs_by_thread[(g.get("pid"), g.get("thread_id"))].append(g)

    per_loop: dict[tuple, dict] = defaultdict(lambda: {"stall_s": 0.0, "gc_s": 0.0, "cpu_s": 0.0,
                                                      "known_s": 0.0, "blocks": 0})
    weighted = []
    for b in stalls_in_window:
        t0, dur = b["t"], b.get("dur_ms", 0.0) / 1000
        inside = w.overlap(t0, t0 + dur)
        key = (b.get("pid"), b.get("thread_id"))
        gc_s = min(inside, _gc_overlap(b, gcs_by_thread.get(key, [])))
        own = inside - gc_s
        loop = per_loop[key]
        loop["stall_s"] += own
        loop["gc_s"] += gc_s
        loop["blocks"] += 1
        if b.get("on_cpu") is not None:
            loop["known_s"] += own
            loop["cpu_s"] += own if b["on_cpu"] else 0.0
        if own > 0 and b.get("stack"):
            weighted.append((b["stack"], own))

    # lag percentiles over all loops, weighted by ticks
    ticks = sum(r.get("n", 1) for r in lags) or 1
    p50s = sorted((r.get("p50_ms", 0.0), r.get("n", 1)) for r in lags) or [(0.0, 1)]
    acc, lag_p50 = 0, 0.0
    for value, n in p50s:
        acc += n
        if acc >= ticks / 2:
            lag_p50 = value
            break
    lag_max = max([r.get("max_ms", 0.0) for r in lags] +
                  [b.get("dur_ms", 0.0) for b in stalls_in_window])

    worst_key, worst = max(per_loop.items(), key=lambda kv: kv[1]["stall_s"],
                           default=(None, {"stall_s": 0.0, "gc_s": 0.0, "cpu_s": 0.0,
                                           "known_s": 0.0, "blocks": 0}))
    stall_share = worst["stall_s"] / w.duration
    on_cpu_share = worst["cpu_s"] / worst["known_s"] if worst["known_s"] > 0 else None
    evidence = {
        "window_s": round(w.duration, 3),
        "loops": len({(r.get("pid"), r.get("thread_id")) for r in lags + stalls_in_window}),
        "lag_p50_ms": round(lag_p50, 2),
        "lag_max_ms": round(lag_max, 2),
        "stall_share": round(stall_share, 4),
        "stalls": worst["blocks"],
        # the whole stalled time, and its two parts: inside GC pauses (the GC analyser's)
        # and outside them (this analyser's: stall_share is of this part)
        "stall_s": round(worst["stall_s"] + worst["gc_s"], 3),
        "stall_in_gc_s": round(worst["gc_s"], 3),
        "stall_outside_gc_s": round(worst["stall_s"], 3),
        "on_cpu_share": None if on_cpu_share is None else round(on_cpu_share, 3),
        "loop_pid": worst_key[0] if worst_key else None,
        "loop_thread_id": worst_key[1] if worst_key else None,
    }
    if stall_share < STALL_SHARE_ISSUE and lag_p50 < LAG_P50_ISSUE_MS:
        return Finding(signal="loop", status=NONE, evidence=evidence,
                       summary=f"the event loop kept up: median lag {lag_p50:.1f} ms, "
                               f"stalled {100 * stall_share:.0f}% of the time")

    idle_lag = lag_not_the_loops_work(data, lags, w.duration, evidence,
                                      {k: v["stall_s"] for k, v in per_loop.items()})
    if idle_lag is not None:
        return idle_lag
    by_lag = stall_share < STALL_SHARE_ISSUE  # the median lag, not long stalls, is the issue

    cpu = on_cpu_share is not None and on_cpu_share >= ON_CPU_SHARE_CPU
    if on_cpu_share is None:  # the probe could not tell: lean on process CPU
        usage = data.cpu
        cpu = bool(usage and usage.busiest >= CPU_BUSY_CORES)
    category = "loop-cpu" if cpu else "loop-blocking-call"
    sampled = _pyspy_loop_stacks(data, *worst_key) if by_lag and worst_key else []
    if by_lag and not sampled and worst_key is None and lags:  # no stall at all: the lag's loop
        top = max(lags, key=lambda r: r.get("p50_ms", 0.0))
        sampled = _pyspy_loop_stacks(data, top.get("pid"), top.get("thread_id"))
    culprits = rank(sampled or weighted)
    evidence["culprits_from"] = "py-spy loop-thread samples" if sampled else "stall stacks"
    severity = clamp01(max(stall_share / STALL_SHARE_FULL, lag_p50 / (10 * LAG_P50_ISSUE_MS)))
    who = f" in {culprits[0].function}()" if culprits else ""
    stalled = f"stalled it {100 * stall_share:.0f}% of the time, lag up to {lag_max:.0f} ms"
    if by_lag:
        how = "runs on the event-loop thread" if cpu else "blocks the event-loop thread off-CPU"
        what = "CPU-heavy code" if cpu else "a blocking call"
        summary = (f"{what}{who} {how}: the median event-loop lag was {lag_p50:.1f} ms "
                   f"({stalled})")
    elif cpu:
        summary = (f"CPU-heavy code{who} runs on the event-loop thread and stalled the loop "
                   f"{100 * stall_share:.0f}% of the time (lag up to {lag_max:.0f} ms)")
    else:
        summary = (f"a blocking call{who} stalled the event loop {100 * stall_share:.0f}% of the "
                   f"time while the thread waited off-CPU (lag up to {lag_max:.0f} ms)")
    return Finding(signal="loop", status=ISSUE, category=category, severity=severity,
                   summary=summary, evidence=evidence, culprits=culprits)
