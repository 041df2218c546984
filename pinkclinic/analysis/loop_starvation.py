"""Loop starvation: was the event loop's lag its own work, or its thread waiting to run?

Ticks run one after the other, so their lateness adds up to time the loop thread spent
on something else: its own work, or waiting to run again. If py-spy saw that thread
outside its selector wait for much less time than its ticks were late, the lag is the
second kind (the thread woke but was starved of the GIL or a CPU, as under many threads
of pure-Python work): no code on the loop caused it. Used by
:mod:`pinkclinic.analysis.loop` before it raises a loop issue, whether from the median
lag or from stalls.
"""

from __future__ import annotations

from collections import defaultdict

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import NONE, Finding
from pinkclinic.analysis.stacks import frames_of
from pinkclinic.profile.idle import is_loop_entry, is_wait_frame

# The loop thread ran (was outside its selector wait) for less than this share of the
# time its ticks were late: the lag was not its work (a margin for sampling noise).
LOOP_RAN_SHARE_OF_LAG = 0.5


def in_loop_wait(stack: list) -> bool:
    """The stack (innermost last) ends in the loop's own wait: the selector called by the
    loop's ``_run_once`` (asyncio), or uvloop's run loop entered from Python. Any other
    wait is the loop's work, because it blocks the loop: ``Condition.wait`` under a
    ``future.result()``, or a selector that ``subprocess.run`` waits in."""
    if not stack:
        return False
    func, file = str(stack[-1][0]), _slashes(stack[-1][1])
    if is_loop_entry(func, file):
        return True
    if not (file.endswith("/selectors.py") and is_wait_frame(func, file)) or len(stack) < 2:
        return False
    caller, caller_file = str(stack[-2][0]), _slashes(stack[-2][1])
    return caller.endswith("_run_once") and caller_file.endswith("asyncio/base_events.py")


def _slashes(path) -> str:
    return str(path).replace("\\", "/")


def lateness_share(lags: list[dict], window_s: float) -> float:
    """A lower bound on the share of the window the loop's ticks were late: in each lag
    record at least ``n - n // 2`` ticks were ``p50_ms`` late, and ticks do not overlap."""
    late_ms = sum((r.get("n", 1) - r.get("n", 1) // 2) * r.get("p50_ms", 0.0) for r in lags)
    return late_ms / 1000 / window_s if window_s > 0 else 0.0


def loop_ran_share(data: RecordingData, pid, tid) -> float | None:
    """The share of py-spy's samples of the loop thread outside the loop's own wait;
    ``None`` if py-spy did not sample that thread."""
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
        if not in_loop_wait(named):
            ran += w
    return ran / total if total else None


def lag_not_the_loops_work(data: RecordingData, lags: list[dict], window_s: float,
                            evidence: dict, stalled: dict | None = None) -> Finding | None:
    """A ``NONE`` finding if, for the loop that was latest, py-spy saw the loop thread run
    for much less time than it was late (see the module's doc). A loop's lateness is the
    larger of its ticks' (from the lag records) and its stalls' share of the window
    (``stalled``: seconds per (pid, thread id)), so that a loop starved of the GIL for
    long spells is judged like one starved in short ones."""
    by_loop: dict[tuple, list[dict]] = defaultdict(list)
    for r in lags:
        by_loop[(r.get("pid"), r.get("thread_id"))].append(r)
    stalled = stalled or {}
    keys = set(by_loop) | set(stalled)
    if not keys or window_s <= 0:
        return None

    def late_of(key) -> float:
        return max(lateness_share(by_loop.get(key, []), window_s), stalled.get(key, 0.0) / window_s)

    key = max(keys, key=lambda k: (late_of(k), str(k)))
    late = late_of(key)
    ran = loop_ran_share(data, *key)
    if ran is None or late <= 0 or ran >= LOOP_RAN_SHARE_OF_LAG * late:
        return None
    evidence.update({"late_share": round(late, 3), "loop_ran_share": round(ran, 3),
                     "late_loop_pid": key[0], "late_loop_thread_id": key[1]})
    return Finding(signal="loop", status=NONE, evidence=evidence,
                   summary=f"the event loop ran late (median lag {evidence['lag_p50_ms']:.1f} ms, "
                           f"late or stalled {100 * late:.0f}% of the time) but its thread ran "
                           f"only {100 * ran:.0f}% of the time: it waited to run again (for the "
                           "GIL or a CPU), no code on the loop stalled it")
