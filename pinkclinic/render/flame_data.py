"""The compact encoding of a :class:`Profile` that the flame graph page reads.

Strings are stored once in a table; everything numeric is packed into strings of
base-64 varints (alphabet ``A-Za-z0-9-_``; a char carries 5 value bits and a
continuation bit, low bits first), so a profile of 1M samples over 50k distinct
stacks stays a few MB of HTML and decodes with ``charCodeAt`` in a tight loop::

    {"v": 2, "unit": "samples"|"seconds"|"bytes", "scale": 1 | 1e-6, "counts": bool,
     "strings": [...],
     "areas":   ["app", "deps:starlette", ..., "stdlib", "native", "idle"],
     "frames":  [func, file, line, area, ...]   4 ints per frame (string/area index);
                                                numbered by use in the trie, most used
                                                first, so frequent ids are short
     "threads": [pid, tid, name, process, ...]  4 ints per thread (-1: unknown)
     "pops":    varints                         the stack trie in preorder, shared by
     "frame":   varints                         all threads: node i's parent is found by
                                                popping pops[i] levels off the path of
                                                node i-1 (pops = depth[i-1] + 1 - depth[i])
     "samples": varints                         (thread, node + 1 - previous node - 1,
                                                weight[, count]) per (thread, stack),
                                                sorted by node; node -1 is the empty stack
     "meta": {...},
     "source": {...}}                           optional: the source heatmap
                                                (pinkclinic/render/flame_source.py)

The trie is built by sorting the distinct stacks: in lexicographic order every
prefix comes right before its extensions, so one pass with the longest common
prefix of neighbours numbers the nodes in preorder.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pinkclinic.profile.model import Profile
from pinkclinic.render.flame_source import source_data

VERSION = 2
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TABLE_SIZE = 1 << 15


def _varint(v: int) -> str:
    out = []
    while v >= 32:
        out.append(ALPHABET[32 + (v & 31)])
        v >>= 5
    out.append(ALPHABET[v])
    return "".join(out)


_TABLE = [_varint(v) for v in range(_TABLE_SIZE)]


def varints(values) -> str:
    """Pack non-negative ints (C-speed for values < 32768)."""
    tab = _TABLE
    try:
        return "".join(map(tab.__getitem__, values))
    except IndexError:
        return "".join(tab[v] if v < _TABLE_SIZE else _varint(v) for v in values)


def decode_varints(text: str) -> list[int]:
    """The inverse of :func:`varints` (for tests and tools)."""
    out, v, shift = [], 0, 0
    for ch in text:
        c = ALPHABET.index(ch)
        if c >= 32:
            v |= (c - 32) << shift
            shift += 5
        else:
            out.append(v | (c << shift))
            v, shift = 0, 0
    return out


class _Strings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.table: list[str] = []

    def __call__(self, s: str) -> int:
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.table)
            self.table.append(s)
        return i


def encode(profile: Profile, *, meta: dict | None = None,
           sources: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """``sources`` (path -> {line: text}) adds the source heatmap of frames in those files
    (:mod:`pinkclinic.render.flame_source`) when the profile has ``heat``."""
    p = profile
    # the stack trie, numbered in preorder (see the module docstring)
    pops: list[int] = []
    frame: list[int] = []
    node_of: dict[tuple[int, ...], int] = {}
    path_len = 0
    prev: tuple[int, ...] = ()
    zeros = [0] * 4096
    for st in sorted({s for _, s in p.stacks}):
        k = 0
        for a, b in zip(prev, st, strict=False):
            if a != b:
                break
            k += 1
        new = len(st) - k
        if new:
            pops.append(path_len - k)
            pops.extend(zeros[:new - 1] if new <= len(zeros) else [0] * (new - 1))
            frame.extend(st[k:])
        node_of[st] = len(frame) - 1 if st else -1
        path_len = len(st)
        prev = st

    # renumber frames by how often the trie names them: frequent ids get short varints
    uses = Counter(frame)
    order = sorted(range(len(p.frames)), key=lambda f: (-uses.get(f, 0), f))
    new_id = [0] * len(p.frames)
    for i, f in enumerate(order):
        new_id[f] = i
    frame = list(map(new_id.__getitem__, frame))

    strings = _Strings()
    areas = p.areas()
    area_idx = {a: i for i, a in enumerate(areas)}
    frames: list[int] = []
    for f in order:
        fr = p.frames[f]
        frames.extend((strings(fr.function), strings(fr.file), fr.line, area_idx[fr.area]))
    threads: list[int] = []
    for t in p.threads:
        threads.extend((-1 if t.pid is None else t.pid, -1 if t.tid is None else t.tid,
                        strings(t.name), strings(t.process)))

    scale = 1e-6 if p.unit == "seconds" else 1
    inv = 1 / scale
    counts = p.has_counts
    rows = []
    for (t, st), (w, c) in p.stacks.items():
        wi = round(w * inv)
        if wi > 0:
            rows.append((node_of[st] + 1, t, wi, c))
    rows.sort()
    flat: list[int] = []
    last = 0
    for node, t, wi, c in rows:
        flat.extend((t, node - last, wi, c) if counts else (t, node - last, wi))
        last = node
    m = {k: v for k, v in {**p.meta, **(meta or {})}.items() if _jsonable(v)}
    out = {"v": VERSION, "unit": p.unit, "scale": scale, "counts": counts,
           "strings": strings.table, "areas": areas, "frames": frames, "threads": threads,
           "pops": varints(pops), "frame": varints(frame), "samples": varints(flat),
           "nodes": len(frame), "meta": m}
    src = source_data(p, sources or {}, new_id, inv)
    if src:
        out["source"] = src
    return out


def _jsonable(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool, list, dict))
