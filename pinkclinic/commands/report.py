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
STACK_FORMATS = {"flame": ("speedscope", "collapsed"), "doctor": ("speedscope", "collapsed"),
                 "heap": ("speedscope", "collapsed")}


def emit(text: str, output: str | None) -> Path | None:
    if output in (None, "-"):
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return None
    path = Path(output)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    return path


def emit_json(obj, output: str | None) -> Path | None:
    return emit(dumps(obj, indent=1), output)


def run_report(recording: str, fmt: str, output: str | None, open_report: bool,
               lines: bool | None = None, idle: bool | None = None) -> int:
    rec = Recording.open(recording)
    kind = rec.kind
    if fmt in ("speedscope", "collapsed") and fmt not in STACK_FORMATS.get(kind, ()):
        raise UsageError(f"--format {fmt} is not available for a {kind} recording")
    if idle is not None and kind != "flame":
        raise UsageError(f"--idle/--no-idle applies to flame recordings, not to a {kind} one")
    module = importlib.import_module(RENDERERS[kind])
    extra = {} if idle is None else {"idle": idle}  # only flame's rerender takes it
    written = module.rerender(rec, fmt, output, lines=lines, **extra)
    if written is not None and fmt != "html":
        print(f"wrote {written}", file=sys.stderr)
    if open_report and written is not None and fmt == "html":
        webbrowser.open(Path(written).resolve().as_uri())
    return 0
