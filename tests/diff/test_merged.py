"""The merged call tree (diff.merged) against the plain per-stack definitions: node weights
are the sums of the stacks below them, function totals count a recursive function once per
stack, line and area come from NEW where NEW runs the node, removed paths are BASE's only."""

from __future__ import annotations

import random

from pinkclinic.diff.merged import function_counts, merge, removed
from pinkclinic.diff.sides import CpuSide
from pinkclinic.diff.stacks import of_profile
from pinkclinic.diff.tree import _merge
from pinkclinic.profile import Profile, from_stacks

NAMES = ["main", "serve", "handle", "render", "walk", "query", "encode", "log"]


def profile(seed: int, line: int) -> Profile:
    rnd = random.Random(seed)
    rows = []
    for _ in range(400):
        depth = rnd.randint(0, 9)  # 0: a stack with no frame at all
        stack = [(rnd.choice(NAMES[:4] if d < 2 else NAMES), "/srv/app.py", line + d)
                 for d in range(depth)]  # names repeat: recursion, shared prefixes
        rows.append((stack, float(rnd.randint(1, 5)), 1, 1, rnd.choice([1, 2])))
    return from_stacks(rows)


def side(p: Profile) -> CpuSide:
    return CpuSide(None, of_profile(p), 10.0, 100.0, 1.0)


def paths(p: Profile) -> dict[tuple, float]:
    out: dict[tuple, float] = {}
    for _, fids, w, _ in p.iter_stacks(idle=False):
        key = tuple(p.frames[f][:2] for f in fids)
        out[key] = out.get(key, 0.0) + w
    return out


def test_nodes_functions_and_removed_paths_match_their_definitions():
    prof_b, prof_n = profile(1, 10), profile(2, 50)
    base, new = side(prof_b), side(prof_n)
    m = merge(base, new)
    pb, pn = paths(prof_b), paths(prof_n)
    assert len(m.paths[0]) == len(pb) > 100 and len(m.paths[1]) == len(pn)

    # every node: its path from the root, and its weight = the stacks through it
    nodes, count = _merge(base, new, m)
    assert count == len(m.parent) == len({p[:d] for p in (*pb, *pn) for d in range(len(p) + 1)})
    full = {}
    for nid in range(1, len(m.parent)):
        full[nid] = (*full.get(m.parent[nid], ()), m.keys[m.key[nid]])
        prefix = full[nid]
        for side_i, ps in enumerate((pb, pn)):
            want = sum(w for p, w in ps.items() if p[:len(prefix)] == prefix)
            assert m.weight[side_i][nid] == want, (prefix, side_i)
        in_new = any(p[:len(prefix)] == prefix for p in pn)
        assert m.visited[1][nid] == in_new
    assert m.weight[0][0] == sum(pb.values()) and m.weight[1][0] == sum(pn.values())
    # the drawn nodes carry NEW's line where NEW runs them (lines differ: 10+ vs 50+)
    assert all(n[2] >= 50 for n in nodes[1:] if n[1] > 0)
    assert any(n[2] < 50 for n in nodes[1:] if n[1] == 0)

    # the function table: Profile.functions' self and total (recursion counted once)
    for side_i, p in enumerate((prof_b, prof_n)):
        want = {p.frames[f.frame][:2]: [f.self, f.total] for f in p.functions(idle=False)}
        got = {k: v[:2] for k, v in function_counts(m, side_i).items()}
        assert got == want
    assert any(len(set(p)) < len(p) for p in pb)  # the data does recurse

    gone = removed(m)
    named = {tuple(m.keys[g] for g in p) for p in gone.paths[0]}
    assert named == set(pb) - set(pn) and gone.paths[1] == {}
    assert gone.weight[0][0] == sum(w for p, w in pb.items() if p not in pn)
