"""Both sides' CPU stacks merged once: paths of shared (function, file) ids, and the call
tree (a trie) they make, with each node's inclusive weight on each side. The function
table (``cpu``) and the differential flame graph (``tree``) are both read from it.

Built for 1M-sample recordings (~50k distinct stacks, ~20 frames deep): a stack becomes
a path with one C-level ``map``; the trie is built from the *sorted* distinct paths, where
each path shares its longest existing prefix with the one before it (counted in C), so
only its new nodes cost Python work; the nodes are in depth-first order, so a node's
subtree is a range of them and its inclusive weight a difference of two prefix sums.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate, compress, repeat, takewhile
from operator import eq, sub, truth

from pinkclinic.diff.sides import CpuSide


@dataclass
class Merged:
    keys: list[tuple[str, str]]        # shared id -> (function, file)
    info: list[dict[int, tuple]]       # per side: shared id -> (line, area)
    paths: list[dict[tuple, float]]    # per side: path of shared ids -> weight (CPU stacks)
    parent: list[int]                  # trie node -> parent node (root 0: -1)
    key: list[int]                     # trie node -> shared id (root: -1)
    first: bytearray                   # 1: the node's function is not among its ancestors
    weight: list[list[float]]          # per side: node -> inclusive weight
    visited: list[bytearray]           # per side: 1 when a stack of that side passes
    leaf: dict[tuple, int]             # path -> its trie node
    size: int                          # nodes some stack passes (root included)
    end: list[int]                     # node -> end of its subtree (its nodes: node..end-1)


def _side_paths(side: CpuSide | None, index: dict, keys: list, info: dict) -> dict:
    st = side.stacks if side is not None else None
    if st is None:
        return {}
    gid = []
    for func, file, line, area in st.frames:
        k = (func, file)
        g = index.get(k)
        if g is None:
            g = index[k] = len(keys)
            keys.append(k)
        info[g] = (line, area)
        gid.append(g)
    if gid == list(range(len(gid))):  # BASE (first): its ids are the shared ones
        return st.paths
    to = gid.__getitem__
    paths: dict[tuple, float] = {}
    get = paths.get
    for fids, w in st.paths.items():  # frames are distinct (function, file): sums are rare
        path = tuple(map(to, fids))
        paths[path] = get(path, 0) + w
    return paths


def merge(base: CpuSide | None, new: CpuSide | None) -> Merged:
    index: dict[tuple, int] = {}
    keys: list[tuple[str, str]] = []
    info: list[dict[int, tuple]] = [{}, {}]
    paths = [_side_paths(s, index, keys, i) for s, i in zip((base, new), info, strict=True)]
    return _build(keys, info, paths)


def removed(m: Merged) -> Merged | None:
    """BASE's stacks whose path NEW never ran, as BASE of a Merged of their own (NEW empty);
    ``None`` when there are none."""
    gone = {p: w for p, w in m.paths[0].items() if p not in m.paths[1]}
    if not gone:
        return None
    # the same trie, weighed by the removed paths alone: its nodes no removed path passes
    # weigh 0 and are not counted in ``size`` (a trie of these paths alone has the others)
    n = len(m.parent)
    w, v = _weigh(m.parent, m.end, m.leaf, gone)
    return Merged(m.keys, [m.info[0], {}], [gone, {}], m.parent, m.key, m.first,
                  [w, [0] * n], [v, bytearray(n)], m.leaf, sum(v), m.end)


def _weigh(parent: list, end: list, leaf: dict, paths: dict) -> tuple[list, bytearray]:
    """Each node's inclusive weight over ``paths`` and whether one of them passes it."""
    n = len(parent)
    w, v = [0] * n, bytearray(n)
    for p, x in paths.items():
        i = leaf[p]
        w[i] += x
        v[i] = 1
    if all(type(x) is int for x in paths.values()):
        # a subtree is the nodes i..end[i]-1: its weight is a difference of prefix sums,
        # all in C (exact for sample counts; float weights are summed child by child below)
        acc = [0, *accumulate(w)]
        seen = [0, *accumulate(v)]
        return (list(map(sub, map(acc.__getitem__, end), acc)),
                bytearray(map(bool, map(sub, map(seen.__getitem__, end), seen))))
    for i in range(n - 1, 0, -1):  # children come after their parent
        j = parent[i]
        w[j] += w[i]
        v[j] |= v[i]
    return w, v


def _build(keys: list, info: list, paths: list) -> Merged:
    parent, key, first = [-1], [-1], bytearray(1)
    leaf: dict[tuple, int] = {}
    chain, prev = [0], ()
    end = [0]
    for p in sorted(paths[0].keys() | paths[1].keys()):
        # in sorted order, the longest prefix already in the trie is the one shared with
        # the path before (its length counted in C)
        k = len(list(takewhile(truth, map(eq, prev, p))))
        nid = len(parent)
        if len(chain) > k + 1:  # no later path passes these: their subtrees end here
            for x in chain[k + 1:]:
                end[x] = nid
            del chain[k + 1:]
        m = len(p) - k
        if m:  # its new nodes p[k:], each the child of the one before: appended in C
            end.extend(repeat(0, m))
            parent.append(chain[k])
            parent.extend(range(nid, nid + m - 1))
            key.extend(p[k:])
            if len(set(p)) == len(p):  # no recursion (most paths): every node is a first
                first.extend(b"\x01" * m)
            else:
                first.extend(p[d] not in p[:d] for d in range(k, len(p)))
            chain.extend(range(nid, nid + m))
        leaf[p] = chain[-1]
        prev = p
    for x in chain:
        end[x] = len(parent)
    weight, visited = [], []
    for side in paths:
        w, v = _weigh(parent, end, leaf, side)
        weight.append(w)
        visited.append(v)
    return Merged(keys, info, paths, parent, key, first, weight, visited, leaf, len(parent),
                  end)


def function_counts(m: Merged, side: int) -> dict[tuple[str, str], list]:
    """(function, file) -> [self, total, line, area] in samples, of one side (0 BASE, 1 NEW):
    a function's total counts each stack once, however often it recurses."""
    selfw: dict[int, float] = {}
    for p, w in m.paths[side].items():
        if p:
            selfw[p[-1]] = selfw.get(p[-1], 0) + w
    tot: dict[int, float] = {}
    w, v, key, first = m.weight[side], m.visited[side], m.key, m.first
    # the nodes that are their function's first on the path and that this side passes: both
    # are 0/1 bytes, so one big-int AND selects them in C (the root's ``first`` is 0)
    n = len(key)
    both = (int.from_bytes(first, "little") & int.from_bytes(v, "little")).to_bytes(n, "little")
    get = tot.get
    for g, x in zip(compress(key, both), compress(w, both), strict=True):
        tot[g] = get(g, 0) + x
    info = m.info[side]
    return {m.keys[g]: [selfw.get(g, 0), t, *info[g]] for g, t in tot.items()}
