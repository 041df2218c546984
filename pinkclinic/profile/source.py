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
from pinkclinic.profile.builder import ProfileBuilder
from pinkclinic.profile.model import Profile
from pinkclinic.profile.readers import read_pyinstrument, read_pyspy
from pinkclinic.recording import Recording
from pinkclinic.window import load_window

PYSPY_FILE = "pyspy.speedscope.json"


def _meta(rec: Recording) -> dict:
    m = rec.manifest
    opts = m.get("options") or {}
    extra = opts.get("extra") or {}  # the command's own options (flame: rate, idle, ...)

    def opt(key):
        return extra.get(key, opts.get(key))

    target = m.get("target") or {}
    status = m.get("status") or {}
    timings = m.get("timings") or {}
    pyspy = (m.get("streams") or {}).get("pyspy") or {}
    profiler = opt("profiler") or "py-spy"
    start = pyspy.get("started") or timings.get("listening")
    end = timings.get("stopping")
    return {
        "title": f"{m.get('name', '')} · pinkclinic {m.get('kind', 'flame')}",
        "name": m.get("name"),
        "kind": m.get("kind"),
        "command": list(m.get("command") or []),
        "pid": target.get("pid"),
        "outcome": status.get("outcome"),
        "status_detail": status.get("detail"),
        "rate_hz": pyspy.get("rate_hz") or opt("rate"),
        "native": bool(pyspy.get("native", opt("native"))),
        # the view opens with waiting time shown for --idle, and for pyinstrument (wall clock)
        "idle": bool(opt("idle")) or profiler == "pyinstrument",
        # whether waiting samples exist at all: py-spy without --idle drops them
        "idle_recorded": bool(pyspy.get("idle", True)),
        "profiler": profiler,
        "duration_s": round(end - start, 3) if start and end and end > start else None,
        "warnings": [],
    }


def _window(rec: Recording) -> tuple[float, float] | None:
    """pyinstrument's window: the load window (:func:`pinkclinic.window.load_window`)."""
    w = load_window(rec.manifest.get("timings") or {})
    return None if w is None else (w.start, w.end)


def build_profile(recording: Recording | str | os.PathLike, *, lines: bool = False,
                  profiler: str | None = None, order: bool = False,
                  heat: bool = False) -> Profile:
    """The profile of a flame recording (also works on any folder holding the files).
    ``order`` keeps py-spy's samples in time order (``Profile.order``, for exports);
    ``heat`` keeps the app frames' samples per line (``Profile.heat``)."""
    rec = recording if isinstance(recording, Recording) else Recording.open(recording)
    meta = _meta(rec)
    profiler = profiler or meta["profiler"]
    path = Path(rec.path)
    pyi = sorted(path.glob("pyinstrument-*.jsonl"))
    pyspy = rec.stream_file("pyspy") or (path / PYSPY_FILE)
    if profiler == "pyinstrument" or (pyi and not pyspy.exists()):
        window = _window(rec)
        meta.update(profiler="pyinstrument", idle=True, idle_recorded=True)
        if window:
            meta["duration_s"] = round(window[1] - window[0], 3)
        b = ProfileBuilder(unit="seconds", lines=lines, meta=meta, heat=heat)
        for f in pyi:
            try:
                read_pyinstrument(f, b, window, process=" ".join(meta["command"]))
            except (OSError, ValueError) as e:
                b.meta["warnings"].append(f"{f.name} could not be read: {e}")
        if not pyi:
            b.meta["warnings"].append("no pyinstrument-<PID>.jsonl in the recording")
        return b.build()
    # Without --idle py-spy keeps only the samples of threads the OS shows running, so every
    # sample is CPU time and the leaf-frame rules must not call any of them idle.
    b = ProfileBuilder(unit="samples", lines=lines, meta={**meta, "profiler": "py-spy"},
                       idle_rules=meta["idle_recorded"], heat=heat)
    if not pyspy.exists() or pyspy.stat().st_size == 0:
        b.meta["warnings"].append(f"py-spy wrote no profile ({PYSPY_FILE} is missing or empty)")
        return b.build()
    try:
        read_pyspy(pyspy, b, pid=meta["pid"], process=" ".join(meta["command"]), order=order)
    except (OSError, ValueError) as e:
        raise PinkError(f"{pyspy} cannot be read: {e}") from None
    return b.build()
