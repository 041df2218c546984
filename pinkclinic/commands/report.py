"""``pinkclinic report DIR``: re-analyse and re-render a recording of any kind.

Each kind's command module provides ``rerender(rec, fmt, output) -> Path | None``;
this module only opens the recording and dispatches.
"""

from __future__ import annotations

import importlib
import sys
import webbrowser
from pathlib import Path

from pinkclinic.errors import UsageError
from pinkclinic.jsonio import dumps
from pinkclinic.recording import Recording

RENDERERS = {
    "doctor": "pinkclinic.commands.doctor",
    "flame": "pinkclinic.commands.flame",
    "heap": "pinkclinic.commands.heap",
    "waits": "pinkclinic.commands.waits",
}
# formats each kind understands besides html/json/text
STACK_FORMATS = {"flame": ("speedscope", "collapsed", "pprof"),
                 "doctor": ("speedscope", "collapsed", "pprof"),
                 "heap": ("speedscope", "collapsed", "pprof")}


def emit(text: str, output: str | None) -> Path | None:
    if output in (None, "-"):
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return None
    path = Path(output)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path


def emit_json(obj, output: str | None) -> Path | None:
    return emit(dumps(obj, indent=1), output)


def pprof_profile(rec: Recording, idle: bool | None):
    """(the profile to export, whether to keep its waiting samples): flame and doctor's
    stacks keyed by line (py-spy or pyinstrument), heap's allocations at the peak."""
    from pinkclinic.errors import PinkError
    from pinkclinic.profile import build_profile

    if rec.kind == "heap":
        from pinkclinic.heap import analyse_recording
        from pinkclinic.render.heap import peak_profile

        profile = peak_profile(analyse_recording(rec.path, write=False))
        if profile is None:
            raise PinkError(f"{rec.path} has no allocations at the peak to export")
        return profile, True
    if rec.kind == "doctor":  # the load window, pinkclinic's own probe threads left out
        from pinkclinic.analysis.data import RecordingData

        data = RecordingData(rec)
        profile = data.window_profile
        if profile is None:
            raise PinkError(f"{rec.path} has no stack samples to export")
        profile.meta.update(rate_hz=(rec.manifest.get("streams", {}).get("pyspy") or {})
                            .get("rate_hz"), duration_s=data.window and data.window.duration)
        return profile, bool(idle)
    profile = build_profile(rec, lines=True)
    if not profile.stacks:
        raise PinkError(f"{rec.path} has no stack samples to export")
    return profile, bool(profile.meta.get("idle")) if idle is None else idle


def write_pprof(rec: Recording, output: str | None, idle: bool | None) -> Path | None:
    """``--format pprof``: the gzipped profile.proto, by default beside the recording
    (``NAME.pinkclinic-KIND.pb.gz``); ``-o -`` writes it to stdout."""
    from pinkclinic.profile.pprof import to_pprof

    profile, keep = pprof_profile(rec, idle)
    data = to_pprof(profile, idle=keep)
    if output == "-":
        sys.stdout.buffer.write(data)
        return None
    path = Path(output) if output else rec.path.with_name(rec.path.name + ".pb.gz")
    try:
        path.write_bytes(data)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from None
    return path


def run_report(recording: str, fmt: str, output: str | None, open_report: bool,
               lines: bool | None = None, idle: bool | None = None) -> int:
    rec = Recording.open(recording)
    kind = rec.kind
    if fmt in ("speedscope", "collapsed", "pprof") and fmt not in STACK_FORMATS.get(kind, ()):
        raise UsageError(f"--format {fmt} is not available for a {kind} recording")
    if idle is not None and kind != "flame" and fmt != "pprof":
        raise UsageError(f"--idle/--no-idle applies to flame recordings, not to a {kind} one")
    if fmt == "pprof":
        written = write_pprof(rec, output, idle)
        if written is not None:
            print(f"wrote {written}", file=sys.stderr)
        return 0
    module = importlib.import_module(RENDERERS[kind])
    extra = {} if idle is None else {"idle": idle}  # only flame's rerender takes it
    written = module.rerender(rec, fmt, output, lines=lines, **extra)
    if written is not None and fmt != "html":
        print(f"wrote {written}", file=sys.stderr)
    if open_report and written is not None and fmt == "html":
        webbrowser.open(Path(written).resolve().as_uri())
    return 0
