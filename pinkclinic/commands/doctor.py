"""``pinkclinic doctor``: record a server under load, diagnose it, write the report."""

from __future__ import annotations

import webbrowser

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.diagnose import diagnose
from pinkclinic.analysis.sources import capture
from pinkclinic.commands.summary import print_diagnosis
from pinkclinic.recording import Recording
from pinkclinic.render.doctor import write_doctor_report
from pinkclinic.session.options import SessionOptions
from pinkclinic.session.run import exit_code, run_session
from pinkclinic.session.ui import Phases

PROBE_FEATURES = ["loop", "gc", "tasks", "threads", "listen"]
PYSPY_RATE_HZ = 100


def doctor_collectors(opts: SessionOptions) -> list:
    from pinkclinic.session.collectors import PsutilCollector, PySpyCollector

    return [PsutilCollector(opts.sample_interval_ms / 1000),
            PySpyCollector(rate=PYSPY_RATE_HZ, idle=True)]


def candidate_stacks(rec: Recording):
    """Stacks whose culprit frames may be named in the report (their source is saved)."""
    data = RecordingData(rec)
    for kind in ("block", "gc", "waits"):
        for r in data.probe.get(kind, []):
            if r.get("stack"):
                yield r["stack"]
    from pinkclinic.analysis.stacks import busy_stacks

    for stack, _ in busy_stacks(rec, limit=200):
        yield stack


def analyse_and_render(rec: Recording, ui: Phases | None = None) -> tuple[dict, object]:
    if ui:
        ui.phase("analysing")
    from pinkclinic.analysis.stacks import stack_findings

    diagnosis = diagnose(rec, extra=stack_findings(rec))
    if ui:
        ui.phase("writing the report")
    from pinkclinic.render.doctor_flame import doctor_flame_html

    report = write_doctor_report(rec, diagnosis, doctor_flame_html(rec, diagnosis))
    return diagnosis, report


def run_doctor(opts: SessionOptions) -> int:
    ui = Phases("doctor")
    probe = PROBE_FEATURES if opts.pid is None else None
    with ui:
        result = run_session(opts, doctor_collectors(opts), probe_features=probe,
                             probe_options={"block_ms": 30}, ui=ui)
        rec = result.rec
        ui.phase("saving source lines")
        capture(rec, candidate_stacks(rec))
        rec.mark("finished")
        if opts.collect_only:
            ui.__exit__(None, None, None)
            print(f"recording: {rec.path}")
            return exit_code(result.outcome)
        diagnosis, report = analyse_and_render(rec, ui)
    print_diagnosis(diagnosis, report)
    if opts.open_report:
        webbrowser.open(report.resolve().as_uri())
    return exit_code(result.outcome)


def rerender(rec: Recording, fmt: str, output: str | None):
    """``pinkclinic report`` for a doctor recording."""
    from pinkclinic.commands.report import emit, emit_json

    if fmt in ("speedscope", "collapsed"):
        from pinkclinic.analysis.stacks import export_stacks

        return emit(export_stacks(rec, fmt), output)
    if fmt == "html":
        diagnosis, report = analyse_and_render(rec)
        if output:
            import shutil

            shutil.copyfile(report, output)
            return output
        print_diagnosis(diagnosis, report)
        return report
    from pinkclinic.analysis.stacks import stack_findings

    diagnosis = diagnose(rec, extra=stack_findings(rec))
    if fmt == "json":
        return emit_json(diagnosis, output)
    if output:
        from io import StringIO

        from rich.console import Console

        buf = StringIO()
        print_diagnosis(diagnosis, None, console=Console(file=buf, width=120, no_color=True))
        return emit(buf.getvalue(), output)
    print_diagnosis(diagnosis, None)
    return None
