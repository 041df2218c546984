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
from pinkclinic.profile import FORMATS, build_profile, export
from pinkclinic.recording import Recording
from pinkclinic.render.flame import write_flame_report


def _open(recording: Recording | str | os.PathLike) -> Recording:
    return recording if isinstance(recording, Recording) else Recording.open(recording)


def report_flame(recording: Recording | str | os.PathLike, out: str | os.PathLike | None = None,
                 *, lines: bool = False) -> Path:
    """Render the flame report of a recording; returns the HTML path."""
    rec = _open(recording)
    profile = build_profile(rec, lines=lines)
    return write_flame_report(profile, out or rec.report_path)


def export_recording(recording: Recording | str | os.PathLike, fmt: str,
                     out: str | os.PathLike | None = None, *, idle: bool = True,
                     lines: bool = False) -> Path | None:
    """Write the recording's profile as ``fmt`` to ``out`` (``None`` or ``-``: stdout)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown --format {fmt!r}; choose one of {', '.join(FORMATS)}")
    text = export(build_profile(_open(recording), lines=lines), fmt, idle=idle)
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
