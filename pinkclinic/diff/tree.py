"""The differential call tree: both profiles merged into one tree of (function, file)
paths, every thread and process together, CPU samples only (idle left out).

``diff_tree(base, new)`` gives flat arrays in depth-first order (a node's parent comes
before it; children by NEW value, largest first), for the page's flame graph::

    {"frames": [[function, file, line, area], ...],
     "parent": [...], "frame": [...],          # index of the parent node (-1: root), frame
     "base": [...], "new": [...],              # ms per request (or share) of each node
     "sig": [...]}                             # -1 less, 0 not significant, 1 more

The root (index 0) is "all CPU". A node's value is inclusive (its subtree). Nodes under
:data:`MIN_WIDTH` of the root on both sides (a fraction of a pixel) are left out of the
page; their time stays in their parents.
"""

from __future__ import annotations

from itertools import compress

from pinkclinic.diff.merged import Merged, merge
from pinkclinic.diff.sides import CpuSide
from pinkclinic.diff.stats import MIN_OF_TOTAL, Side, compare, z_for

MIN_WIDTH = 1 / 20_000


def _merge(base: CpuSide, new: CpuSide, m: Merged | None = None):
    """(nodes ``[base, new, line, area, (function, file), parent]``, root first, and how
    many nodes the whole tree has); a node's
    line and area are NEW's when NEW runs it, else BASE's. Nodes under :data:`MIN_WIDTH`
    on both sides are left out here already (with their subtrees, which are no wider);
    their weights stay in their parents."""
    m = m or merge(base, new)
    (wb, wn), (ib, inew), vn = m.weight, m.info, m.visited[1]
    nodes: list[list] = [[wb[0], wn[0], 0, "", None, -1]]
    floor_b, floor_n = MIN_WIDTH * wb[0], MIN_WIDTH * wn[0]
    at = {0: 0}  # trie node -> its index in ``nodes``
    # the nodes at least that wide on a side (a floor of 0: any weight), selected in C;
    # a node's parent is no narrower, so it comes before it
    wide = [compress(range(len(w)), map(f.__le__, w) if f > 0 else w)
            for w, f in ((wb, floor_b), (wn, floor_n))]
    for nid in sorted(set(wide[0]).union(wide[1])):
        if not nid:
            continue
        g = m.key[nid]
        line, area = (inew if vn[nid] else ib)[g]
        at[nid] = len(nodes)
        nodes.append([wb[nid], wn[nid], line, area, m.keys[g], at[m.parent[nid]]])
    return nodes, m.size


def diff_tree(base: CpuSide, new: CpuSide, *, per_request: bool, phi: float = 1.0,
              merged: Merged | None = None) -> dict:
    nodes, compared = _merge(base, new, merged)
    tb, tn = nodes[0][0], nodes[0][1]
    children: dict[int, list[int]] = {}
    for nid in range(1, len(nodes)):
        children.setdefault(nodes[nid][5], []).append(nid)

    def value(side: CpuSide, n: float, total: float) -> float:
        if per_request:
            return n * side.ms_per_sample / side.requests
        return n / total if total else 0.0

    scale = max(value(base, tb, tb), value(new, tn, tn)) if per_request else 1.0
    z = z_for(compared)  # every node of the tree, drawn or not
    floor_b, floor_n = MIN_WIDTH * tb, MIN_WIDTH * tn
    frames: dict[tuple, int] = {}
    out = {"frames": [], "parent": [], "frame": [], "base": [], "new": [], "sig": []}
    stack = [(0, -1)]
    while stack:
        nid, parent = stack.pop()
        b, n, line, area, key, _ = nodes[nid]
        idx = len(out["parent"])
        fi = -1
        if key is not None:
            fk = (*key, line, area)
            fi = frames.get(fk)
            if fi is None:
                fi = frames[fk] = len(out["frames"])
                out["frames"].append([key[0], key[1], int(line or 0), area])
        vb, vn = value(base, b, tb), value(new, n, tn)
        sig = 0
        if max(vb, vn) >= MIN_OF_TOTAL * scale:  # smaller changes are never significant
            c = compare(Side(b, tb, base.ms_per_sample, base.requests if per_request else None),
                        Side(n, tn, new.ms_per_sample, new.requests if per_request else None),
                        per_request=per_request, z=z, scale=scale, phi=phi)
            sig = 0 if not c.significant else (1 if c.delta > 0 else -1)
        out["parent"].append(parent)
        out["frame"].append(fi)
        out["base"].append(round(vb, 6))
        out["new"].append(round(vn, 6))
        out["sig"].append(sig)
        kids = [k for k in children.get(nid, ())
                if 0 < nodes[k][0] >= floor_b or 0 < nodes[k][1] >= floor_n]
        kids.sort(key=lambda k: (nodes[k][1], nodes[k][0], nodes[k][4]))
        stack.extend((k, idx) for k in kids)  # popped largest first
    return out
