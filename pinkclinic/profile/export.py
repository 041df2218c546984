"""Exports: speedscope, collapsed stacks (flamegraph.pl / inferno) and pinkclinic JSON.

All three take a :class:`Profile` and return text, so ``pinkclinic report DIR
--format F -o FILE`` is ``write(export(build_profile(rec), F))``. ``idle=False``
drops the waiting samples (the CPU view); the default keeps everything recorded.
"""

from __future__ import annotations

from pinkclinic.jsonio import dumps
from pinkclinic.profile.model import Profile

FORMATS = ("speedscope", "collapsed", "json")
SPEEDSCOPE_SCHEMA = "https://www.speedscope.app/file-format-schema.json"
JSON_SCHEMA_VERSION = 1
_SPEEDSCOPE_UNITS = {"samples": "none", "seconds": "seconds", "bytes": "bytes"}


def thread_label(p: Profile, t: int) -> str:
    th = p.threads[t]
    parts = []
    if th.pid is not None:
        parts.append(f"process {th.pid}")
    if th.tid is not None:
        parts.append(f"thread {th.tid}")
    if th.name:
        parts.append(f'"{th.name}"')
    return " ".join(parts) or "all"


def _rows_in_order(p: Profile, idle: bool) -> dict[int, list]:
    """Per thread, ``[frames, weight]`` runs in time order (equal neighbours merged)."""
    per_thread: dict[int, list] = {}
    for keys, seq in p.order or ():
        drop = [not idle and p.is_idle(k[1]) for k in keys]
        unit = [p.stacks[k][0] / (p.stacks[k][1] or 1) for k in keys]
        last = -1
        rows: list = []
        for i in seq:
            if drop[i]:
                continue
            if i == last:
                rows[-1][1] += unit[i]
                continue
            key = keys[i]
            rows = per_thread.setdefault(key[0], [])
            rows.append([key[1], unit[i]])
            last = i
    return per_thread


def to_speedscope(p: Profile, *, idle: bool = True, name: str | None = None) -> str:
    """A speedscope file: one sampled profile per thread. The samples are in time order
    when the profile kept it (py-spy recordings), so speedscope's "Time Order" view
    works; otherwise equal stacks are merged and weighted."""
    profiles = []
    if p.order is not None:
        per_thread = _rows_in_order(p, idle)
    else:
        per_thread = {}
        for t, frames, w, _ in p.iter_stacks(idle=idle):
            per_thread.setdefault(t, []).append((frames, w))
        per_thread = {t: sorted(rows) for t, rows in per_thread.items()}
    for t in sorted(per_thread):
        rows = per_thread[t]
        profiles.append({
            "type": "sampled",
            "name": thread_label(p, t),
            "unit": _SPEEDSCOPE_UNITS[p.unit],
            "startValue": 0,
            "endValue": sum(w for _, w in rows),
            "samples": [list(frames) for frames, _ in rows],
            "weights": [w for _, w in rows],
        })
    doc = {
        "$schema": SPEEDSCOPE_SCHEMA,
        "exporter": "pinkclinic",
        "name": name or p.meta.get("title") or "pinkclinic profile",
        "shared": {"frames": [{"name": f.function, "file": f.file, "line": f.line}
                              for f in p.frames]},
        "profiles": profiles,
    }
    if profiles:  # the schema wants a number here, or no key at all
        doc["activeProfileIndex"] = 0
    return dumps(doc) + "\n"


def frame_text(function: str, file: str, line: int) -> str:
    """py-spy's frame text, ``func (file:line)``; ``;`` would split a collapsed stack."""
    text = f"{function} ({file}:{line})" if file else function
    return text.replace(";", ":").replace("\n", " ")


def to_collapsed(p: Profile, *, idle: bool = True, threads: bool = True) -> str:
    """``frame;frame;... weight`` lines; seconds are written as integer microseconds.

    With ``threads`` each stack starts with py-spy's ``process``/``thread`` pseudo
    frames, so the output reads back into the same threads.
    """
    scale = 1_000_000 if p.unit == "seconds" else 1
    texts = [frame_text(f.function, f.file, f.line) for f in p.frames]
    prefix: dict[int, list[str]] = {}
    lines: dict[str, int] = {}
    for t, frames, w, _ in p.iter_stacks(idle=idle):
        if t not in prefix:
            th = p.threads[t]
            pre = []
            if threads and th.pid is not None:
                cmd = th.process.replace(";", ":").replace("\n", " ")
                pre.append(f'process {th.pid}:"{cmd}"')
            if threads and th.tid is not None:
                pre.append(f"thread ({th.tid})" + (f": {th.name}" if th.name else ""))
            prefix[t] = [x.replace(";", ":") for x in pre]
        key = ";".join(prefix[t] + [texts[f] for f in frames])
        lines[key] = lines.get(key, 0) + round(w * scale)
    return "".join(f"{k} {v}\n" for k, v in sorted(lines.items()) if v > 0)


def to_json(p: Profile, *, idle: bool = True) -> str:
    """pinkclinic's own JSON: frames, threads, weighted stacks and the function table."""
    funcs = p.functions(idle=idle)
    doc = {
        "schema_version": JSON_SCHEMA_VERSION,
        "unit": p.unit,
        "has_counts": p.has_counts,
        "meta": p.meta,
        "areas": p.areas(),
        "frames": [{"function": f.function, "file": f.file, "line": f.line, "area": f.area}
                   for f in p.frames],
        "threads": [{"pid": t.pid, "tid": t.tid, "name": t.name, "process": t.process}
                    for t in p.threads],
        "stacks": [{"thread": t, "frames": list(frames), "weight": w, "count": c,
                    "idle": p.is_idle(frames)}
                   for t, frames, w, c in sorted(p.iter_stacks(idle=idle))],
        "functions": [{"frame": s.frame, "self": s.self, "total": s.total,
                       "self_count": s.self_count, "total_count": s.total_count}
                      for s in funcs],
    }
    return dumps(doc) + "\n"


def export(p: Profile, fmt: str, *, idle: bool = True) -> str:
    """Dispatch on ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "speedscope":
        return to_speedscope(p, idle=idle)
    if fmt == "collapsed":
        return to_collapsed(p, idle=idle)
    if fmt == "json":
        return to_json(p, idle=idle)
    raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
