"""Was the event loop's lag its own work? Ticks run one after the other, so their
lateness adds up to time the loop thread spent on something else: its own work, or
waiting to run again. If py-spy saw that thread outside its selector wait for much
less time than its ticks were late, the lag is the second kind (the thread woke but
waited for the GIL or a CPU, as under many threads of pure-Python work): no code on
the loop caused it. Used by :mod:`pinkclinic.analysis.loop` on its median-lag path.
"""

from __future__ import annotations

from collections import defaultdict

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import NONE, Finding
from pinkclinic.profile.idle import is_loop_entry, is_wait_frame

# The loop thread ran (was outside its selector wait) for less than this share of the
# time its ticks were late: the lag was not its work (a margin for sampling noise).
LOOP_RAN_SHARE_OF_LAG = 0.5


def in_loop_wait(leaf: list) -> bool:
    """The leaf is the loop's own wait: the selector (asyncio) or uvloop's run loop entered
    from Python. A wait under the loop's callbacks (``Condition.wait`` under a
    ``future.result()``) is the loop's work: it blocks the loop."""
    func, file = str(leaf[0]), str(leaf[1]).replace("\\", "/")
    return is_loop_entry(func, file) or (file.endswith("/selectors.py") and is_wait_frame(func, file))


def lateness_share(lags: list[dict], window_s: float) -> float:
    """A lower bound on the share of the window the loop's ticks were late: in each lag
    record at least ``n - n // 2`` ticks were ``p50_ms`` late, and ticks do not overlap."""
    late_ms = sum((r.get("n", 1) - r.get("n", 1) // 2) * r.get("p50_ms", 0.0) for r in lags)
    return late_ms / 1000 / window_s if window_s > 0 else 0.0


def loop_ran_share(data: RecordingData, pid, tid) -> float | None:
    """The share of py-spy's samples of the loop thread outside the loop's own wait;
    ``None`` if py-spy did not sample that thread."""
    from pinkclinic.analysis.stacks import frames_of

    p = data.window_profile
    if p is None:
        return None
    ran = total = 0.0
    for t, frames, w, _ in p.iter_stacks(idle=True):
        info = p.threads[t]
        if info.pid != pid or info.tid != tid:
            continue
        total += w
        named = frames_of(p, frames)
        if not named or not in_loop_wait(named[-1]):
            ran += w
    return ran / total if total else None


def lag_not_the_loops_work(data: RecordingData, lags: list[dict], window_s: float,
                            evidence: dict) -> Finding | None:
    """A ``NONE`` finding if, for the loop whose ticks were latest, py-spy saw the loop
    thread run for much less time than the ticks were late (see the module's doc)."""
    by_loop: dict[tuple, list[dict]] = defaultdict(list)
    for r in lags:
        by_loop[(r.get("pid"), r.get("thread_id"))].append(r)
    if not by_loop:
        return None
    key, mine = max(by_loop.items(), key=lambda kv: lateness_share(kv[1], window_s))
    late = lateness_share(mine, window_s)
    ran = loop_ran_share(data, *key)
    if ran is None or late <= 0 or ran >= LOOP_RAN_SHARE_OF_LAG * late:
        return None
    evidence.update({"late_share": round(late, 3), "loop_ran_share": round(ran, 3),
                     "late_loop_pid": key[0], "late_loop_thread_id": key[1]})
    return Finding(signal="loop", status=NONE, evidence=evidence,
                   summary=f"the event loop ran late (median lag {evidence['lag_p50_ms']:.1f} ms, "
                           f"ticks late {100 * late:.0f}% of the time) but its thread ran only "
                           f"{100 * ran:.0f}% of the time: it waited to run again (for the GIL "
                           "or a CPU), no code on the loop stalled it")
