"""``pinkclinic heap``: run a server under memray with load, find what keeps memory alive."""

from __future__ import annotations

import shutil

from pinkclinic.analysis.diagnose import DIAGNOSIS_FILE
from pinkclinic.commands.common import run_recording
from pinkclinic.commands.summary import print_diagnosis
from pinkclinic.errors import PinkError
from pinkclinic.recording import Recording
from pinkclinic.session.options import SessionOptions


def heap_plan(opts: SessionOptions, via_probe: bool = False) -> tuple[list, list[str] | None, dict]:
    """``via_probe``: with ``--pid``, memray is started by the injected probe (gdb cannot
    call into a process here) instead of ``memray attach``."""
    from pinkclinic.session.memray_attach import MemrayAttach, MemrayCheck

    x = opts.extra
    if opts.pid is not None:
        if via_probe:
            from pinkclinic.session.memray_probe import ProbeMemray

            return [ProbeMemray(native=x["native"], follow_fork=x["follow_fork"])], None, {}
        return [MemrayAttach(native=x["native"], follow_fork=x["follow_fork"])], None, {}
    return [MemrayCheck()], ["memray", "listen"], {"memray_native": x["native"],
                                                   "memray_follow_fork": x["follow_fork"]}


def _preflight(opts: SessionOptions) -> bool:
    """``--pid``: refuse before any recording exists when memray cannot be injected;
    ``True`` when it must be started by the injected probe (gdb cannot call functions)."""
    if opts.pid is None:
        return False
    from pinkclinic import target as tgt
    from pinkclinic.session.memray_attach import preflight

    t = tgt.attach(opts.pid)  # a PID that is gone or not permitted: its own one line
    return preflight(t.python_pid() or t.pid)


def _discard_without_capture(rec: Recording) -> None:
    """A run that failed before memray wrote anything leaves no folder behind, unless the
    target's log has something to read."""
    from pinkclinic.heap.capture import find_captures

    if not find_captures(rec.path) and not rec.target_said_something():
        shutil.rmtree(rec.path, ignore_errors=True)


def analyse_and_render(rec: Recording, out=None):
    from pinkclinic.heap import analyse_recording
    from pinkclinic.jsonio import read_json
    from pinkclinic.render.heap import write_heap_report
    from pinkclinic.session.memray_attach import probe_memray_error

    try:
        result = analyse_recording(rec.path)
    except PinkError as e:
        raise PinkError(probe_memray_error(rec) or e.message) from None
    diagnosis = read_json(rec.file(DIAGNOSIS_FILE))
    return result, diagnosis, write_heap_report(rec, result, diagnosis, out)


def run_heap(opts: SessionOptions) -> int:
    collectors, features, probe_options = heap_plan(opts, _preflight(opts))

    def check(rec: Recording, result, ui) -> None:
        if result.outcome == "error":  # memray could not start or attach: nothing to analyse
            _discard_without_capture(rec)
            raise PinkError(result.detail)

    def finish(rec: Recording, ui):
        ui.phase("analysing the allocations")
        _, diagnosis, report = analyse_and_render(rec)
        return report, lambda: print_diagnosis(diagnosis, report, kind="heap")

    return run_recording(opts, collectors, finish, probe_features=features,
                         probe_options=probe_options, after_record=check)


def rerender(rec: Recording, fmt: str, output: str | None, lines: bool | None = None):
    """``pinkclinic report`` for a heap recording."""
    from pinkclinic.commands.report import emit_json

    if fmt in ("speedscope", "collapsed"):
        from pinkclinic.commands.report import emit
        from pinkclinic.heap import analyse_recording
        from pinkclinic.profile import export
        from pinkclinic.render.heap import peak_profile

        profile = peak_profile(analyse_recording(rec.path, write=False))
        if profile is None:
            raise PinkError(f"{rec.path} has no allocations at the peak to export")
        return emit(export(profile, fmt), output)
    _result, diagnosis, report = analyse_and_render(rec, output if fmt == "html" else None)
    if fmt == "json":
        return emit_json(diagnosis, output)
    print_diagnosis(diagnosis, report if fmt == "html" else None, kind="heap")
    return report if fmt == "html" else None
