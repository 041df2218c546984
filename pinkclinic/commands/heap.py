"""``pinkclinic heap``: run a server under memray with load, find what keeps memory alive."""

from __future__ import annotations

from pinkclinic.commands.common import run_recording
from pinkclinic.commands.summary import print_diagnosis
from pinkclinic.errors import PinkError
from pinkclinic.recording import Recording
from pinkclinic.session.options import SessionOptions


def heap_plan(opts: SessionOptions) -> tuple[list, list[str] | None, dict]:
    x = opts.extra
    if opts.pid is not None:
        from pinkclinic.session.memray_attach import MemrayAttach

        return [MemrayAttach(native=x["native"], follow_fork=x["follow_fork"])], None, {}
    return [], ["memray", "listen"], {"memray_native": x["native"],
                                      "memray_follow_fork": x["follow_fork"]}


def _probe_error(rec: Recording) -> str | None:
    from pinkclinic.analysis.data import RecordingData

    for err in RecordingData(rec).probe.get("error", []):
        if err.get("feature") == "memray":
            return (f"the target's Python could not start memray ({err.get('message', '')}); "
                    "install memray in the target's environment (pip install memray)")
    return None


def analyse_and_render(rec: Recording, out=None):
    from pinkclinic.heap import analyse_recording
    from pinkclinic.jsonio import read_json
    from pinkclinic.render.heap import write_heap_report

    try:
        result = analyse_recording(rec.path)
    except PinkError as e:
        raise PinkError(_probe_error(rec) or e.message) from None
    diagnosis = read_json(rec.file("diagnosis.json"))
    return result, diagnosis, write_heap_report(rec, result, diagnosis, out)


def run_heap(opts: SessionOptions) -> int:
    collectors, features, probe_options = heap_plan(opts)

    def check(rec: Recording, result, ui) -> None:
        if result.outcome == "error":  # e.g. memray could not attach: nothing to analyse
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
