"""The source heatmap's data on the flame page: each app frame's lines and samples.

Added to the encoded profile (:mod:`pinkclinic.render.flame_data`) as::

    "source": {"files": {path: {line number: text}},        only files with heat
               "heat": {frame id: [[line, self, total], ...]}}   ids as renumbered

Only frames whose file's source is known (the recording's ``sources.json``) are kept.
Weights are scaled to integers like the samples (``round(w / scale)``).
"""

from __future__ import annotations

from pinkclinic.profile.model import Profile


def source_data(profile: Profile, sources: dict[str, dict[str, str]], new_id: list[int],
                inv: float) -> dict | None:
    if not profile.heat or not sources:
        return None
    heat: dict[str, list[list[int]]] = {}
    used: set[str] = set()
    for f, lines in profile.heat.items():
        file = profile.frames[f].file
        if file not in sources:
            continue
        rows = [[line, round(s * inv), round(t * inv)] for line, (s, t) in sorted(lines.items())]
        rows = [r for r in rows if r[2] > 0]
        if rows:
            heat[str(new_id[f])] = rows
            used.add(file)
    if not heat:
        return None
    return {"files": {p: sources[p] for p in sorted(used)}, "heat": heat}
