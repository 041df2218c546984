"""py-spy's samples placed in time, and the profile of the load window alone.

py-spy's speedscope file (read by :mod:`pinkclinic.profile.speedscope_in`, keeping
the samples' order) has no timestamps, but each thread's samples are in time order, and with ``--idle`` every live thread of a process is sampled on every tick.
So a process's busiest thread spans the whole sampling time ``D`` (its sample count
over the rate, from ``streams.pyspy.started``, the moment py-spy printed that it
samples), and a thread with fewer samples than its process's most is one that was
born later (a pool thread started by the first request): its samples are placed at the
end. Samples py-spy lost to torn reads (``--nonblocking``) are spread evenly, which is
how they fall. The placement is good to a few tenths of a second, which
:data:`pinkclinic.analysis.data.EDGE_TRIM_S` absorbs at the window's edges.

pinkclinic's own probe threads (``pinkclinic-probe-*``) are left out, and the probe's
frames on a server thread's stack (a GC callback) are cut off: neither is the server's
work.
"""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain

from pinkclinic.probe import THREAD_PREFIX, is_probe_file, is_probe_wrapper
from pinkclinic.profile.builder import ProfileBuilder
from pinkclinic.profile.idle import IDLE_FRAME, is_loop_entry, is_wait_frame
from pinkclinic.profile.readers import PROFILE_NAME, split_pseudo
from pinkclinic.profile.speedscope_in import read_speedscope_ordered


@dataclass
class ThreadSamples:
    pid: int | None
    tid: int | None
    name: str
    process: str
    t0: float          # time of the first sample
    step: float        # seconds between samples
    keys: list = field(default_factory=list)  # distinct stacks: (frame, ...); frame = (func, file, line)
    seq: array = field(default_factory=lambda: array("I"))  # samples in time order: keys' indices
    # the same stacks as indices into ``frames`` (a table shared by the threads of one file),
    # when read by :func:`read_timed`: ints hash and compare faster than frame tuples
    ids: list | None = None
    frames: list | None = None

    @property
    def n(self) -> int:
        return len(self.seq)

    @cached_property
    def stacks(self) -> list:
        """The samples' stacks in time order (one list item a sample: built on demand)."""
        return list(map(self.keys.__getitem__, self.seq))

    def times(self):
        return (self.t0 + i * self.step for i in range(len(self.seq)))


def read_timed(path, started: float, rate: float) -> list[ThreadSamples]:
    """Every thread's samples of ``path`` with their estimated times, probe threads left out."""
    doc, profiles, orders = read_speedscope_ordered(path)
    shared = doc.get("shared", {}).get("frames", [])
    frames = [(str(fr.get("name", "?")), str(fr.get("file") or ""), int(fr.get("line") or 0))
              for fr in shared]
    threads: list[ThreadSamples] = []
    cache: dict[tuple, tuple] = {}
    probe_files: dict[str, bool] = {}
    probe_ids = {i for i, fr in enumerate(frames) if _probe_file(fr[1], probe_files)}
    wrapper_ids = {i for i in probe_ids if is_probe_wrapper(frames[i][1])}
    probe_ids -= wrapper_ids
    heads: dict[tuple, tuple] = {}  # the first frames of a stack -> split_pseudo of them
    for prof, counted, order in zip(doc.get("profiles", []), profiles, orders, strict=True):
        m = PROFILE_NAME.match(str(prof.get("name", "")))
        info = {"pid": int(m.group(1)) if m and m.group(1) else None,
                "tid": int(m.group(2)) if m else None, "name": (m.group(3) or "") if m else ""}
        # ``order`` indexes the distinct stacks, one per sample in time order; each distinct
        # stack is resolved once (in first-seen order, which is time order), so a 1M-sample
        # file costs one list lookup per sample
        resolved, ids, probe_entry, total = [], [], 0, 0
        pseudos: dict[int, dict] = {}  # the stacks' pseudo-frame info, first seen first
        for key, (_, count) in counted.items():
            got = cache.get(key)
            if got is None:
                head = key[:4]  # pseudo frames lead: stacks share their few heads
                split = heads.get(head)
                if split is None:
                    split = heads[head] = split_pseudo(
                        [frames[i][0] if not frames[i][1] else "" for i in head])
                n, pseudo = split
                fids = key[n:]
                if wrapper_ids:  # the app runs beneath the probe's request wrappers
                    fids = tuple(f for f in fids if f not in wrapper_ids)
                # entered through the probe (its outermost frames): a sample of a probe
                # thread whose name py-spy did not see yet
                entered = bool(probe_ids) and not probe_ids.isdisjoint(fids[:5])
                got = cache[key] = (tuple(map(frames.__getitem__, fids)), pseudo, entered, fids)
            stack, pseudo, entered, fids = got
            pseudos.setdefault(id(pseudo), pseudo)
            resolved.append(stack)
            ids.append(fids)
            total += count
            if entered:
                probe_entry += count
        for pseudo in pseudos.values():  # the first non-empty value of each wins
            for k in ("pid", "tid", "name", "process"):
                if pseudo.get(k) not in (None, "") and not info.get(k):
                    info[k] = pseudo[k]
        name = str(info.get("name") or "")
        if name.startswith(THREAD_PREFIX) or (total and probe_entry / total >= 0.5):
            continue
        threads.append(ThreadSamples(info.get("pid"), info.get("tid"), name,
                                     str(info.get("process") or ""), 0.0, 0.0, resolved, order,
                                     ids, frames))
    most = max((t.n for t in threads), default=0)
    span = most / rate if rate else 0.0
    per_pid: dict = Counter()
    for t in threads:
        per_pid[t.pid] = max(per_pid[t.pid], t.n)
    for t in threads:
        n_p = per_pid[t.pid] or 1
        t.step = span / n_p
        t.t0 = started + (n_p - t.n + 0.5) * t.step
    return threads


def _probe_file(file: str, memo: dict) -> bool:
    hit = memo.get(file)
    if hit is None:
        hit = memo[file] = is_probe_file(file)
    return hit


def _frame_ids(threads: list[ThreadSamples]) -> tuple[list, list[list]]:
    """One frame table for ``threads`` and each thread's stacks as indices into it: the
    table :func:`read_timed` shared, else one made here from the stacks' frames."""
    table = threads[0].frames if threads else None
    if table is not None and all(t.frames is table and t.ids is not None for t in threads):
        return table, [t.ids for t in threads]
    table, index = [], {}
    for t in threads:
        for fr in chain.from_iterable(t.keys):
            if fr not in index:
                index[fr] = len(table)
                table.append(fr)
    return table, [[tuple(map(index.__getitem__, k)) for k in t.keys] for t in threads]


def cut_at_probe(stack: tuple, probe_ids: set) -> tuple:
    """``stack`` (frame ids, outermost first) up to its first frame of the probe: the
    probe's own work counts for the frame that called it."""
    return stack[:next(j for j, f in enumerate(stack) if f in probe_ids)]


def samples_in(t: ThreadSamples, window: tuple[float, float] | None):
    """The samples of thread ``t`` inside ``window`` (all if ``None``): sample i is at
    ``t0 + i * step``, so the window is a slice. A window that ends before the thread's
    first sample, or starts after its last, holds none."""
    if window is None:
        return t.seq
    if t.step <= 0:
        return t.seq if window[0] <= t.t0 <= window[1] else t.seq[:0]
    lo = max(0, math.ceil((window[0] - t.t0) / t.step - 1e-9))
    hi = max(0, min(t.n, math.floor((window[1] - t.t0) / t.step + 1e-9) + 1))
    return t.seq[lo:hi]


def window_profile(threads: list[ThreadSamples], window: tuple[float, float] | None,
                   meta: dict | None = None, waiting: set | None = None):
    """One Profile of the samples inside ``window`` (all of them if ``None``). The samples
    of the ``waiting`` threads ((pid, tid) the kernel saw blocked nearly all the time)
    get a synthetic ``<idle>`` leaf, so a CPU view hides them.

    Stacks are counted as tuples of frame indices (a 1M-sample recording has ~50k distinct
    stacks ~20 deep): each frame is interned into the profile once, in the order in which
    the counted stacks first show it, as :func:`pinkclinic.profile.from_stacks` does."""
    waiting = waiting or set()
    counts: Counter = Counter()
    names, processes = {}, {}
    table, thread_ids = _frame_ids(threads)
    probe_files: dict[str, bool] = {}
    probe_ids = {i for i, fr in enumerate(table) if _probe_file(fr[1], probe_files)}
    trimmed: dict[tuple, tuple] = {}  # a stack's ids -> them cut at the first probe frame
    idle = len(table)  # the synthetic <idle> leaf's index
    for t, ids in zip(threads, thread_ids, strict=True):
        names[(t.pid, t.tid)] = t.name
        if t.process:
            processes.setdefault(t.pid, t.process)
        inside = samples_in(t, window)
        wait = (t.pid, t.tid) in waiting
        for i, k in Counter(inside).items():  # in first-seen (time) order
            stack = ids[i]
            if probe_ids and not probe_ids.isdisjoint(stack):
                cut = trimmed.get(stack)
                if cut is None:
                    cut = trimmed[stack] = cut_at_probe(stack, probe_ids)
                stack = cut
            if wait:
                stack = (*stack, idle)
            counts[(t.pid, t.tid, stack)] += k
    if not counts:
        return None
    b = ProfileBuilder(unit="samples", meta=meta or {})
    frames = [*table, IDLE_FRAME]
    raw = {i: b.frame(*frames[i][:3]) for i in dict.fromkeys(chain.from_iterable(
        stack for _, _, stack in counts))}
    tcache: dict[tuple, int] = {}
    for (pid, tid, stack), n in counts.items():
        th = tcache.get((pid, tid))
        if th is None:
            th = tcache[(pid, tid)] = b.thread(pid, tid, names.get((pid, tid), ""),
                                               processes.get(pid, ""))
        b.add(th, tuple(map(raw.__getitem__, stack)), n, n)
    return b.build()


_LOOP_RUN = re.compile(r"(asyncio/base_events\.py|asyncio/runners\.py|uvloop/__init__\.py)$")


def loop_busy(threads: list[ThreadSamples], step: float) -> dict[tuple, list[tuple[float, float]]]:
    """(pid, tid) of each event-loop thread -> [(t, busy share)] per ``step`` seconds: the
    share of its samples that were not the loop waiting (its utilisation, seen from
    outside; what ``--pid`` has instead of the probe's lag)."""
    out = {}
    for t in threads:
        if not any(_LOOP_RUN.search(fr[1].replace("\\", "/")) for s in t.stacks[:50] for fr in s):
            continue
        bins: dict[int, list[int]] = {}
        for when, stack in zip(t.times(), t.stacks):
            idle = not stack or is_wait_frame(*stack[-1][:2]) or is_loop_entry(*stack[-1][:2])
            acc = bins.setdefault(int(when // step), [0, 0])
            acc[0] += 0 if idle else 1
            acc[1] += 1
        out[(t.pid, t.tid)] = [(k * step + step / 2, b / n) for k, (b, n) in sorted(bins.items())]
    return out
