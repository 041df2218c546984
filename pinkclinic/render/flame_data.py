"""The compact encoding of a :class:`Profile` that the flame graph page reads.

Strings are stored once in a table and everything else is integer arrays, so a
profile of 1M samples over 50k distinct stacks stays a few MB of HTML::

    {"v": 1, "unit": "samples"|"seconds"|"bytes", "scale": 1 | 1e-6, "counts": bool,
     "strings": [...],
     "areas":   ["app", "deps:starlette", ..., "stdlib", "native", "idle"],
     "frames":  [func, file, line, area, ...]        4 ints per frame (string/area index)
     "threads": [pid, tid, name, process, ...]       4 ints per thread (-1: unknown)
     "depth":   [...], "frame": [...]                stack trie in preorder: a node's
                                                     parent is the previous node one
                                                     level up; shared by all threads
     "samples": [thread, node, weight(, count)...]   3 (or 4 with counts) ints per
                                                     (thread, stack); weight*scale is
                                                     in unit
     "meta": {...}}

The trie is built by sorting the distinct stacks: in lexicographic order every
prefix comes right before its extensions, so one pass with the longest common
prefix of neighbours numbers the nodes in preorder.
"""

from __future__ import annotations

from array import array
from typing import Any

from pinkclinic.profile.model import Profile

VERSION = 1


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


def encode(profile: Profile, *, meta: dict | None = None) -> dict[str, Any]:
    p = profile
    strings = _Strings()
    areas = p.areas()
    area_idx = {a: i for i, a in enumerate(areas)}
    frames = array("i")
    for f in p.frames:
        frames.extend((strings(f.function), strings(f.file), f.line, area_idx[f.area]))
    threads = array("q")
    for t in p.threads:
        threads.extend((-1 if t.pid is None else t.pid, -1 if t.tid is None else t.tid,
                        strings(t.name), strings(t.process)))

    depth = array("i")
    frame = array("i")
    node_of: dict[tuple[int, ...], int] = {}
    path: list[int] = []
    prev: tuple[int, ...] = ()
    for st in sorted({frames_ for _, frames_ in p.stacks}):
        k, n = 0, min(len(prev), len(st))
        while k < n and prev[k] == st[k]:
            k += 1
        del path[k:]
        for d in range(k, len(st)):
            path.append(len(frame))
            depth.append(d)
            frame.append(st[d])
        node_of[st] = path[-1] if st else -1
        prev = st

    scale = 1e-6 if p.unit == "seconds" else 1
    inv = 1 / scale
    counts = p.has_counts
    samples: list[int] = []
    for (t, st), (w, c) in sorted(p.stacks.items()):
        wi = round(w * inv)
        if wi <= 0:
            continue
        samples.extend((t, node_of[st], wi, c) if counts else (t, node_of[st], wi))
    m = {k: v for k, v in {**p.meta, **(meta or {})}.items() if _jsonable(v)}
    return {"v": VERSION, "unit": p.unit, "scale": scale, "counts": counts,
            "strings": strings.table, "areas": areas, "frames": frames.tolist(),
            "threads": threads.tolist(), "depth": depth.tolist(), "frame": frame.tolist(),
            "samples": samples, "meta": m}


def _jsonable(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool, list, dict))
