"""What a diff reads of one side's profile: its busy CPU stacks, every thread together.

``CpuStacks.frames`` are distinct (function, file) pairs with the line and area the
profile gives them; ``paths`` maps a stack (frame ids, outermost first) to its samples.
Idle stacks (an idle leaf, or the loop waiting) are left out; ``busy`` is their total.

Two ways to get one, with the same result:

* :func:`of_profile` from a :class:`~pinkclinic.profile.model.Profile` (pyinstrument,
  tests): the definition;
* :func:`of_pyspy` straight from py-spy's timed samples (``RecordingData.pyspy_threads``)
  for the diff's load window, without building a Profile: what ``window_profile`` and
  ``ProfileBuilder.build`` do, restricted to what the diff reads (stacks of
  (function, file), a frame's most-sampled line, its area, idle stacks out). At 1M
  samples that is ~0.3 s instead of ~1.5 s; tests/diff/test_stacks.py holds the two equal.

Both are small, so the worker that reads BASE sends back this, not a Profile.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import chain

from pinkclinic.analysis.pyspy_window import cut_at_probe, samples_in
from pinkclinic.probe import is_probe_file
from pinkclinic.profile.areas import IDLE, AreaClassifier
from pinkclinic.profile.idle import is_loop_entry, is_wait_frame
from pinkclinic.profile.model import Profile


@dataclass
class CpuStacks:
    frames: list[tuple[str, str, int, str]]  # id -> (function, file, line, area)
    paths: dict[tuple[int, ...], float]      # busy stack (frame ids) -> samples
    busy: float                              # their sum (Profile.total(idle=False))


def of_profile(p: Profile) -> CpuStacks:
    frames = [(f.function, f.file, f.line, f.area) for f in p.frames]
    idle = {i for i, f in enumerate(p.frames) if f.area == IDLE}  # Profile.is_idle, inlined
    paths: dict[tuple, float] = {}
    get = paths.get
    for (_, fids), (w, _) in p.stacks.items():
        if fids and fids[-1] in idle:
            continue
        paths[fids] = get(fids, 0) + w  # ints stay ints (JSON: 154, not 154.0)
    return CpuStacks(frames, paths, p.total(idle=False))


def of_pyspy(threads: list, window: tuple[float, float] | None) -> CpuStacks | None:
    """The busy stacks of ``threads`` (``read_timed``'s, sharing one frame table) in
    ``window``; ``None`` when the threads are not in that shape or nothing is inside."""
    if not threads:
        return None
    table = threads[0].frames
    if table is None or any(t.frames is not table or t.ids is None for t in threads):
        return None
    probe_ids = {i for i, fr in enumerate(table) if is_probe_file(fr[1])}
    counts: dict[tuple, int] = {}  # raw stack (table ids, probe frames cut) -> samples
    get = counts.get
    for t in threads:
        ids = t.ids
        seen = [0] * len(ids)  # samples per distinct stack: a list beats a Counter ~2.5x
        for i in samples_in(t, window).tolist():
            seen[i] += 1
        for stack, k in zip(ids, seen, strict=True):
            if not k:
                continue
            if probe_ids and not probe_ids.isdisjoint(stack):
                stack = cut_at_probe(stack, probe_ids)
            counts[stack] = get(stack, 0) + k
    if not counts:
        return None
    # table id -> frame id by (function, file), and -> its (frame id, line) cell; table ids
    # no stack uses change nothing (a line no sample ran weighs 0 and never wins)
    classify = AreaClassifier()
    index: dict[tuple[str, str], int] = {}
    cell_ids: dict[tuple[int, int], int] = {}
    to_id, cell = [], []
    for func, file, line in table:
        g = index.setdefault((func, file), len(index))
        to_id.append(g)
        cell.append(cell_ids.setdefault((g, line), len(cell_ids)))
    cells = list(cell_ids)
    nlines = Counter(g for g, _ in cells)
    # a frame's line is its most-sampled one (each stack counted once), the lowest on a tie;
    # only frames seen on several lines need the weights
    multi = {i for i, c in enumerate(cell) if nlines[cells[c][0]] > 1}
    weight = [0] * len(cells)
    if multi:
        # stacks of equal weight together: their frames are counted in C, once per stack
        alike: dict[int, list] = {}
        for stack, w in counts.items():
            alike.setdefault(w, []).append(stack)
        one = len({cell[i] for i in multi}) == len(multi)  # no two table ids share a cell
        at = cell.__getitem__
        for w, stacks in alike.items():
            hits = map(multi.intersection, stacks)
            if not one:
                hits = ({at(i) for i in hit} for hit in hits)
            for c, k in Counter(chain.from_iterable(hits)).items():
                weight[at(c) if one else c] += k * w
    best: dict[int, tuple[int, int]] = {}
    for c, (g, line) in enumerate(cells):
        cand = (weight[c], -line)
        if g not in best or cand > best[g]:
            best[g] = cand
    frames = []
    for g, (func, file) in enumerate(index):
        area = IDLE if is_wait_frame(func, file) else classify(func, file)
        frames.append((func, file, -best[g][1], area))
    busy_leaf = [f[3] != IDLE and not is_loop_entry(f[0], f[1]) for f in frames]
    paths: dict[tuple, int] = {}
    pget = paths.get
    to = to_id.__getitem__
    busy = 0
    for stack, w in counts.items():
        path = tuple(map(to, stack))
        if path and not busy_leaf[path[-1]]:
            continue
        paths[path] = pget(path, 0) + w
        busy += w
    return CpuStacks(frames, paths, busy)
