"""The differential call tree: both profiles merged into one tree of (function, file)
paths, every thread and process together, CPU samples only (idle left out).

``diff_tree(base, new)`` gives flat arrays in depth-first order (a node's parent comes
before it; children by NEW value, largest first), for the page's flame graph::

    {"frames": [[function, file, line, area], ...],
     "parent": [...], "frame": [...],          # index of the parent node (-1: root), frame
     "base": [...], "new": [...],              # ms per request (or share) of each node
     "sig": [...]}                             # -1 less, 0 not significant, 1 more

The root (index 0) is "all CPU". A node's value is inclusive (its subtree).
"""

from __future__ import annotations

from pinkclinic.diff.sides import CpuSide
from pinkclinic.diff.stats import Side, compare, z_for


def _add(tree: dict, side: int, frames: list, profile, stacks_w) -> None:
    for _, fids, w, _ in stacks_w:
        path: tuple = ()
        tree[path][side] += w
        for fid in fids:
            f = profile.frames[fid]
            key = (f.function, f.file)
            path = (*path, key)
            node = tree.get(path)
            if node is None:
                node = tree[path] = [0.0, 0.0, f.line, f.area]
            node[side] += w
            if side == 1 or not node[2]:
                node[2], node[3] = f.line, f.area
        if frames is not None:
            frames.append(path)


def diff_tree(base: CpuSide, new: CpuSide, *, per_request: bool) -> dict:
    tree: dict[tuple, list] = {(): [0.0, 0.0, 0, ""]}
    for i, side in enumerate((base, new)):
        if side.profile is not None:
            _add(tree, i, None, side.profile, side.profile.iter_stacks(idle=False))
    tb, tn = tree[()][0], tree[()][1]
    children: dict[tuple, list] = {}
    for path in tree:
        if path:
            children.setdefault(path[:-1], []).append(path)
    z = z_for(len(tree))

    def value(side: CpuSide, n: float, total: float) -> float:
        if per_request:
            return n * side.ms_per_sample / side.requests
        return n / total if total else 0.0

    scale = max(value(base, tb, tb), value(new, tn, tn)) if per_request else 1.0
    frames: dict[tuple, int] = {}
    out = {"frames": [], "parent": [], "frame": [], "base": [], "new": [], "sig": []}
    stack = [((), -1)]
    while stack:
        path, parent = stack.pop()
        b, n, line, area = tree[path]
        idx = len(out["parent"])
        if path:
            key = (*path[-1], line, area)
            fi = frames.get(key)
            if fi is None:
                fi = frames[key] = len(out["frames"])
                out["frames"].append([path[-1][0], path[-1][1], int(line or 0), area])
        else:
            fi = -1
        c = compare(Side(b, tb, base.ms_per_sample, base.requests if per_request else None),
                    Side(n, tn, new.ms_per_sample, new.requests if per_request else None),
                    per_request=per_request, z=z, scale=scale)
        out["parent"].append(parent)
        out["frame"].append(fi)
        out["base"].append(round(c.base, 6))
        out["new"].append(round(c.new, 6))
        out["sig"].append(0 if not c.significant else (1 if c.delta > 0 else -1))
        kids = sorted(children.get(path, ()), key=lambda p: (tree[p][1], tree[p][0], p))
        stack.extend((k, idx) for k in kids)  # popped largest first
    return out
