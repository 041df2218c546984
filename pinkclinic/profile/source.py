"""A recording folder -> one :class:`Profile` (what ``pinkclinic flame`` renders).

Sources, in order of preference:

* ``pyinstrument-<PID>.jsonl`` when the run used ``--profiler pyinstrument``
  (weights in seconds, wall clock of the main thread);
* ``pyspy.speedscope.json`` (the manifest's ``pyspy`` stream), weights in samples.

A recording cut short (py-spy killed before writing, a crash) still gives a
profile: an empty one, with the reason in ``meta["warnings"]``, so a report is
always written.
"""

from __future__ import annotations

import os
from pathlib import Path

from pinkclinic.errors import PinkError
from pinkclinic.profile.model import Profile, ProfileBuilder
from pinkclinic.profile.readers import read_pyinstrument, read_pyspy
from pinkclinic.recording import Recording

PYSPY_FILE = "pyspy.speedscope.json"


def _meta(rec: Recording) -> dict:
    m = rec.manifest
    opts = m.get("options") or {}
    target = m.get("target") or {}
    pyspy = (m.get("streams") or {}).get("pyspy") or {}
    return {
        "title": f"{m.get('name', '')} · pinkclinic {m.get('kind', 'flame')}",
        "name": m.get("name"),
        "kind": m.get("kind"),
        "command": list(m.get("command") or []),
        "pid": target.get("pid"),
        "outcome": (m.get("status") or {}).get("outcome"),
        "status_detail": (m.get("status") or {}).get("detail"),
        "rate_hz": pyspy.get("rate_hz") or opts.get("rate"),
        "native": bool(opts.get("native")),
        "idle": bool(opts.get("idle")),
        "profiler": opts.get("profiler") or "py-spy",
        "warnings": [],
    }


def build_profile(recording: Recording | str | os.PathLike, *, lines: bool = False,
                  profiler: str | None = None) -> Profile:
    """The profile of a flame recording (also works on any folder holding the files)."""
    rec = recording if isinstance(recording, Recording) else Recording.open(recording)
    meta = _meta(rec)
    profiler = profiler or meta["profiler"]
    path = Path(rec.path)
    pyi = sorted(path.glob("pyinstrument-*.jsonl"))
    pyspy = rec.stream_file("pyspy") or (path / PYSPY_FILE)
    if profiler == "pyinstrument" or (pyi and not pyspy.exists()):
        b = ProfileBuilder(unit="seconds", lines=lines, meta={**meta, "profiler": "pyinstrument"})
        t = rec.manifest.get("timings") or {}
        start = t.get("load_start") or t.get("listening")
        end = t.get("load_end") or t.get("stopping")
        window = (start, end) if start and end else None
        for f in pyi:
            try:
                read_pyinstrument(f, b, window)
            except (OSError, ValueError) as e:
                b.meta["warnings"].append(f"{f.name} could not be read: {e}")
        if not pyi:
            b.meta["warnings"].append("no pyinstrument-<PID>.jsonl in the recording")
        return b.build()
    b = ProfileBuilder(unit="samples", lines=lines, meta={**meta, "profiler": "py-spy"})
    if not pyspy.exists() or pyspy.stat().st_size == 0:
        b.meta["warnings"].append(f"py-spy wrote no profile ({PYSPY_FILE} is missing or empty)")
        return b.build()
    try:
        read_pyspy(pyspy, b, pid=meta["pid"], process=" ".join(meta["command"]))
    except (OSError, ValueError) as e:
        raise PinkError(f"{pyspy} cannot be read: {e}") from None
    return b.build()
