"""What ``pinkclinic flame`` and ``pinkclinic report`` call once a flame recording exists.

The commands stay thin::

    path = report_flame(rec)                                  # NAME.pinkclinic-flame.html
    path = export_recording(rec, "speedscope", "out.json")    # --format ... -o FILE

Both accept a :class:`~pinkclinic.recording.Recording` or its folder, and raise
:class:`~pinkclinic.errors.UsageError` for bad input (one line, exit code 2).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pinkclinic.errors import UsageError
from pinkclinic.profile import FORMATS, Profile, build_profile, export
from pinkclinic.profile.heat import read_sources
from pinkclinic.recording import Recording
from pinkclinic.render.flame import write_flame_report


def _open(recording: Recording | str | os.PathLike) -> Recording:
    return recording if isinstance(recording, Recording) else Recording.open(recording)


def report_flame(recording: Recording | str | os.PathLike, out: str | os.PathLike | None = None,
                 *, lines: bool = False, idle: bool | None = None,
                 profile: Profile | None = None) -> Path:
    """Render the flame report of a recording; returns the HTML path. ``idle`` sets
    whether the page opens with the waiting time shown (default: as recorded).
    ``profile``: one already built from it with ``heat=True`` (saves a second read).
    The source heatmap shows the files the recording's ``sources.json`` holds."""
    rec = _open(recording)
    if profile is None:
        profile = build_profile(rec, lines=lines, heat=True)
    if idle is not None:
        profile.meta["idle"] = idle
    return write_flame_report(profile, out or rec.report_path, sources=read_sources(rec))


def export_recording(recording: Recording | str | os.PathLike, fmt: str,
                     out: str | os.PathLike | None = None, *, idle: bool | None = None,
                     lines: bool = False) -> Path | None:
    """Write the recording's profile as ``fmt`` to ``out`` (``None`` or ``-``: stdout).

    ``idle`` keeps the waiting samples; by default the export shows what the report
    opens with (with them for ``--idle`` and pyinstrument recordings, else without).
    Speedscope files keep py-spy's time order."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}")
    profile = build_profile(_open(recording), lines=lines, order=fmt == "speedscope")
    text = export(profile, fmt, idle=bool(profile.meta.get("idle")) if idle is None else idle)
    if out is None or str(out) == "-":
        sys.stdout.write(text)
        return None
    path = Path(out)
    try:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from None
    return path
