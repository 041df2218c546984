"""Build a :class:`~pinkclinic.profile.model.Profile`: intern raw frames, add weighted
stacks, then merge frames (by function and file unless ``lines``), classify their
code areas and mark idle samples. :func:`from_stacks` is the generic input.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import chain

from pinkclinic.profile.areas import IDLE, AreaClassifier
from pinkclinic.profile.heat import line_heat
from pinkclinic.profile.idle import IDLE_FRAME, is_loop_entry, is_wait_frame
from pinkclinic.profile.model import UNITS, Frame, Profile, ThreadInfo


class ProfileBuilder:
    """Collect weighted stacks of raw frames, then merge and classify them."""

    def __init__(self, *, unit: str = "samples", lines: bool = False, has_counts: bool = False,
                 classifier: AreaClassifier | None = None, meta: dict | None = None,
                 idle_rules: bool | None = None, heat: bool = False):
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, not {unit!r}")
        self.unit = unit
        self.lines = lines
        self.has_counts = has_counts
        # waiting is a time notion: allocations made inside Condition.wait are not idle
        self.idle_rules = unit != "bytes" if idle_rules is None else idle_rules
        self.classifier = classifier or AreaClassifier()
        self.meta = dict(meta or {})
        self.heat = heat  # keep app frames' samples per line (Profile.heat)
        self._raw: list[tuple[str, str, int]] = []
        self._raw_ids: dict[tuple[str, str, int], int] = {}
        self._threads: list[ThreadInfo] = []
        self._thread_ids: dict[tuple, int] = {}
        self._stacks: dict[tuple[int, tuple[int, ...]], list] = {}
        self._order: list[tuple[list, object]] = []

    def frame(self, function: str, file: str, line: int | None = 0) -> int:
        """Intern a raw frame; returns its raw id."""
        key = (str(function), str(file or ""), int(line or 0))
        fid = self._raw_ids.get(key)
        if fid is None:
            fid = self._raw_ids[key] = len(self._raw)
            self._raw.append(key)
        return fid

    def thread(self, pid: int | None, tid: int | None, name: str = "", process: str = "") -> int:
        key = (pid, tid)
        idx = self._thread_ids.get(key)
        if idx is None:
            idx = self._thread_ids[key] = len(self._threads)
            self._threads.append(ThreadInfo(pid, tid, name or "", process or ""))
        else:  # names can be missing early on: keep the first non-empty one
            old = self._threads[idx]
            if (name and not old.name) or (process and not old.process):
                self._threads[idx] = old._replace(name=old.name or name,
                                                  process=old.process or process)
        return idx

    def add(self, thread: int, raw_frames: tuple[int, ...], weight: float = 1,
            count: int = 1) -> None:
        key = (thread, tuple(raw_frames))
        cur = self._stacks.get(key)
        if cur is None:
            self._stacks[key] = [weight, count]
        else:
            cur[0] += weight
            cur[1] += count

    def add_order(self, keys: list[tuple[int, tuple[int, ...]]], seq) -> None:
        """Samples in time order: ``seq`` indexes ``keys``, the ``(thread, raw frames)``
        already given to :meth:`add`. Kept as ``Profile.order`` for exports."""
        self._order.append((keys, seq))

    def build(self) -> Profile:
        raw = self._raw
        # raw frame -> merged frame (by function+file unless lines), hottest line wins
        merged_ids: dict[tuple, int] = {}
        raw_to_merged = [-1] * len(raw)
        merged_keys: list[tuple] = []
        used = set(chain.from_iterable(rframes for _, rframes in self._stacks))
        for rid, (func, file, line) in enumerate(raw):
            if rid not in used:
                continue
            key = (func, file, line) if self.lines else (func, file)
            mid = merged_ids.get(key)
            if mid is None:
                mid = merged_ids[key] = len(merged_keys)
                merged_keys.append(key)
            raw_to_merged[rid] = mid
        # a merged frame shows its most-sampled line; only frames seen on several lines
        # need the weights (a C-level set intersection skips the rest)
        raw_count = Counter(raw_to_merged[r] for r in used)
        multi = {r for r in used if raw_count[raw_to_merged[r]] > 1}
        line_weight: dict[int, float] = {}
        if multi:
            for (_, rframes), (w, _) in self._stacks.items():
                for rid in multi.intersection(rframes):
                    line_weight[rid] = line_weight.get(rid, 0) + w
        best_line: dict[int, tuple[float, int]] = {}
        for rid, (_, _, line) in enumerate(raw):
            mid = raw_to_merged[rid]
            if mid < 0:
                continue
            cand = (line_weight.get(rid, 0), -line)
            if mid not in best_line or cand > best_line[mid]:
                best_line[mid] = cand
        frames: list[Frame] = []
        for mid, key in enumerate(merged_keys):
            func, file = key[0], key[1]
            wait = self.idle_rules and is_wait_frame(func, file)
            area = IDLE if wait else self.classifier(func, file)
            frames.append(Frame(func, file, -best_line[mid][1], area))

        to_merged = raw_to_merged.__getitem__
        idle_id: int | None = None
        entry_cache: dict[int, bool] = {}
        stacks: dict[tuple[int, tuple[int, ...]], list] = {}
        merged_of: dict | None = {} if self._order else None
        busy_rows: list | None = [] if self.heat else None
        for (t, rframes), (w, c) in self._stacks.items():
            mframes = tuple(map(to_merged, rframes))
            if mframes:
                leaf = mframes[-1]
                entry = entry_cache.get(leaf)
                if entry is None:
                    fr = frames[leaf]
                    entry = entry_cache[leaf] = (self.idle_rules and fr.area != IDLE
                                                 and is_loop_entry(fr.function, fr.file))
                if busy_rows is not None and not entry and frames[leaf].area != IDLE:
                    busy_rows.append((rframes, w))
                if entry:
                    if idle_id is None:
                        idle_id = len(frames)
                        frames.append(Frame(*IDLE_FRAME, IDLE))
                    mframes = (*mframes, idle_id)
            key = (t, mframes)
            if merged_of is not None:
                merged_of[(t, rframes)] = key
            cur = stacks.get(key)
            if cur is None:
                stacks[key] = [w, c]
            else:
                cur[0] += w
                cur[1] += c
        meta = dict(self.meta)
        meta.setdefault("lines", self.lines)
        order = None if merged_of is None else [
            ([merged_of[k] for k in keys], seq) for keys, seq in self._order]
        heat = None if busy_rows is None else line_heat(raw, frames, raw_to_merged, busy_rows)
        return Profile(self.unit, frames, list(self._threads), stacks, self.has_counts, meta,
                       order, heat)


def from_stacks(stacks: Iterable[tuple], *, unit: str = "samples", lines: bool = False,
                has_counts: bool | None = None, thread_names: dict | None = None,
                process_names: dict | None = None, meta: dict | None = None,
                classifier: AreaClassifier | None = None) -> Profile:
    """The generic input: ``(frames, weight, count, pid, tid)`` per stack.

    ``frames`` are ``(function, file, line)`` outermost first. ``thread_names`` maps
    ``(pid, tid)`` and ``process_names`` maps ``pid`` to display names. Heap
    analysis feeds allocation trees through here with ``unit="bytes"``.
    """
    b = ProfileBuilder(unit=unit, lines=lines, classifier=classifier, meta=meta,
                       has_counts=bool(has_counts) if has_counts is not None else unit == "bytes")
    thread_names = thread_names or {}
    process_names = process_names or {}
    tcache: dict[tuple, int] = {}
    fcache: dict = {}  # a frame as given -> its raw id (stacks share their frames)

    def frame(fr) -> int:
        key = fr if isinstance(fr, tuple) else tuple(fr)  # JSON gives lists
        fid = fcache.get(key)
        if fid is None:
            fid = fcache[key] = b.frame(*key[:3])
        return fid

    rows = stacks if isinstance(stacks, list) else list(stacks)
    try:  # hashable frames (tuples): intern each distinct one once, first seen first
        fcache = {fr: b.frame(*fr[:3]) for fr in dict.fromkeys(chain.from_iterable(
            r[0] for r in rows))}
        intern = fcache.__getitem__  # then a stack maps in C
    except TypeError:  # lists (JSON): one frame at a time
        intern = frame
    for frames, weight, count, pid, tid in rows:
        t = tcache.get((pid, tid))
        if t is None:
            t = tcache[(pid, tid)] = b.thread(pid, tid, thread_names.get((pid, tid), ""),
                                              process_names.get(pid, ""))
        b.add(t, tuple(map(intern, frames)), weight, count)
    return b.build()
