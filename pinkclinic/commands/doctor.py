"""``pinkclinic doctor``: record a server under load, diagnose it, write the report."""

from __future__ import annotations

from pathlib import Path

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.diagnose import diagnose
from pinkclinic.analysis.sources import capture
from pinkclinic.commands.common import run_recording
from pinkclinic.commands.summary import print_diagnosis
from pinkclinic.profile.app_code import app_code
from pinkclinic.recording import Recording
from pinkclinic.render.doctor import write_doctor_report
from pinkclinic.session.options import SessionOptions
from pinkclinic.session.ui import Phases

PROBE_FEATURES = ["loop", "gc", "tasks", "threads", "listen"]
ATTACH_FEATURES = ["loop", "gc", "tasks", "threads"]  # listen: attach finds ports itself
PYSPY_RATE_HZ = 100
WAITS_MS = 100  # task snapshots (what requests wait on), slowed down if they cost more
PROBE_OPTIONS = {"block_ms": 30, "waits_ms": WAITS_MS}
ROUTES_FEATURE = "routes"  # with --on-port: the probe times each request of a server it knows


def probe_features(opts: SessionOptions, base: list[str]) -> list[str]:
    """The probe's features; with --on-port (the load is not ours, so no request is traced
    by pinkclinic) also ``routes``, for the per-route table."""
    return [*base, ROUTES_FEATURE] if opts.on_port else list(base)


def doctor_collectors(opts: SessionOptions) -> list:
    from pinkclinic.session.collectors import PsutilCollector, PySpyCollector

    collectors = [PsutilCollector(opts.sample_interval_ms / 1000),
                  PySpyCollector(rate=PYSPY_RATE_HZ, idle=True)]
    if opts.pid is not None:  # the probe, injected into the live process
        from pinkclinic.session.probe_attach import InjectedProbe

        collectors.insert(1, InjectedProbe(probe_features(opts, ATTACH_FEATURES), PROBE_OPTIONS))
    if opts.on_port:  # the probe's requests -> routes.json, once the target stopped
        from pinkclinic.session.probe_routes import ProbeRoutes

        collectors.append(ProbeRoutes())
    return collectors


def candidate_stacks(data: RecordingData):
    """Stacks whose culprit frames may be named in the report (their source is saved)."""
    from pinkclinic.analysis.stacks import busy_stacks

    for kind in ("block", "gc"):
        for r in data.probe.get(kind, []):
            if r.get("stack"):
                yield r["stack"]
    for r in data.probe.get("waits", []):
        for stack, _ in r.get("stacks", []):
            yield stack
    for stack, _ in busy_stacks(data, limit=200):
        yield stack


def save_sources(rec: Recording, result, ui: Phases) -> None:
    ui.phase("saving source lines")
    data = RecordingData(rec)
    with app_code(data.app_modules):
        capture(rec, candidate_stacks(data))


def analyse_and_render(rec: Recording, ui: Phases | None = None) -> tuple[dict, Path]:
    from pinkclinic.render.doctor_flame import doctor_flame_html

    data = RecordingData(rec)  # one read of every stream, shared by all analyzers
    if ui:
        ui.phase("analysing")
    with app_code(data.app_modules):  # an installed app's package is the user's code
        diagnosis = diagnose(data)
        if ui:
            ui.phase("writing the report")
        report = write_doctor_report(data, diagnosis, doctor_flame_html(data, diagnosis))
    return diagnosis, report


def finish(rec: Recording, ui: Phases):
    diagnosis, report = analyse_and_render(rec, ui)
    return report, lambda: print_diagnosis(diagnosis, report)


def run_doctor(opts: SessionOptions) -> int:
    return run_recording(opts, doctor_collectors(opts), finish,
                         probe_features=probe_features(opts, PROBE_FEATURES) if opts.pid is None else None,
                         probe_options=PROBE_OPTIONS, after_record=save_sources)


def rerender(rec: Recording, fmt: str, output: str | None, lines: bool | None = None):
    """``pinkclinic report`` for a doctor recording."""
    from pinkclinic.commands.report import emit, emit_json

    if fmt in ("speedscope", "collapsed"):
        from pinkclinic.analysis.stacks import export_stacks

        return emit(export_stacks(RecordingData(rec), fmt), output)
    if fmt == "html":
        diagnosis, report = analyse_and_render(rec)
        if output:
            import shutil

            shutil.copyfile(report, output)
            return output
        print_diagnosis(diagnosis, report)
        return report
    diagnosis = diagnose(RecordingData(rec))
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
