"""``pinkclinic flame``: record a CPU (or wall-clock) profile under load, render the flame graph."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from pinkclinic.commands.common import run_recording
from pinkclinic.commands.summary import short_path
from pinkclinic.errors import PinkError, UsageError
from pinkclinic.recording import Recording
from pinkclinic.session.collectors import PySpyCollector
from pinkclinic.session.options import SessionOptions

PROFILERS = ("py-spy", "pyinstrument")


def flame_plan(opts: SessionOptions) -> tuple[list, list[str] | None]:
    """Collectors and probe features for the chosen profiler."""
    x = opts.extra
    if x["profiler"] == "pyinstrument":
        if opts.pid is not None:
            raise UsageError("--profiler pyinstrument runs inside the target and cannot attach "
                             "to a PID; use the default py-spy profiler with --pid")
        if x["native"]:
            raise UsageError("--native needs --profiler py-spy")
        return [], ["pyinstrument", "listen"]
    return [PySpyCollector(rate=x["rate"], native=x["native"], idle=True)], None


def _check_pyinstrument(rec: Recording) -> None:
    """The probe writes an error record when the target cannot import pyinstrument."""
    from pinkclinic.analysis.data import RecordingData

    for err in RecordingData(rec).probe.get("error", []):
        if err.get("feature") == "pyinstrument":
            raise PinkError(f"the target's Python could not start pyinstrument "
                            f"({err.get('message', 'not importable')}); install it in the "
                            "target's environment or use --profiler py-spy")


def wants_lines(rec: Recording, override: bool | None = None) -> bool:
    """Frames keyed by line: as recorded with --lines, unless ``report --lines`` says."""
    if override is not None:
        return override
    return bool(rec.manifest.get("options", {}).get("extra", {}).get("lines"))


def render(rec: Recording, out=None, lines: bool | None = None):
    from pinkclinic.render.flame_report import report_flame

    return report_flame(rec, out, lines=wants_lines(rec, lines))


def summarize(rec: Recording, report, console: Console | None = None,
              lines: bool | None = None) -> None:
    from pinkclinic.profile import build_profile

    console = console or Console(highlight=False, soft_wrap=True)
    profile = build_profile(rec, lines=wants_lines(rec, lines))
    busy = profile.total(idle=False)
    wall = profile.unit == "seconds" or bool(rec.manifest.get("options", {}).get("extra", {}).get("idle"))
    base = profile.total(idle=True) if wall else busy
    nd = 0 if profile.unit == "samples" else 1
    console.print(f"[bold magenta]flame[/] {profile.total(idle=True):,.{nd}f} {profile.unit} "
                  f"recorded, {busy:,.{nd}f} busy; hottest app functions"
                  f"{' (wall clock)' if wall else ''}:")
    shown = 0
    for stat in profile.functions(idle=wall):
        f = profile.frames[stat.frame]
        if f.area != "app" or f.file.startswith("<") or base <= 0:
            continue
        console.print(f"  {100 * stat.self / base:5.1f}% self  {100 * stat.total / base:5.1f}% total  "
                      f"[bold]{escape(f.function)}[/]  [dim]{escape(short_path(f.file))}:{f.line}[/]")
        shown += 1
        if shown == 5:
            break
    for w in profile.meta.get("warnings", []):
        console.print(f"  [yellow]{escape(w)}[/]")
    console.print(f"  report: [bold]{escape(str(report))}[/]")


def run_flame(opts: SessionOptions) -> int:
    collectors, features = flame_plan(opts)

    def check(rec: Recording, result, ui) -> None:
        if features:
            _check_pyinstrument(rec)

    def finish(rec: Recording, ui):
        ui.phase("writing the flame graph")
        report = render(rec)
        return report, lambda: summarize(rec, report)

    return run_recording(opts, collectors, finish, probe_features=features,
                         probe_options={"pyinstrument_interval_s": 0.001} if features else {},
                         after_record=check)


def rerender(rec: Recording, fmt: str, output: str | None, lines: bool | None = None):
    """``pinkclinic report`` for a flame recording."""
    from pinkclinic.render.flame_report import export_recording

    if fmt == "html":
        report = render(rec, output, lines)
        summarize(rec, report, lines=lines)
        return report
    if fmt == "text":
        summarize(rec, rec.report_path if rec.report_path.exists() else "(not rendered)", lines=lines)
        return None
    return export_recording(rec, fmt, output, lines=wants_lines(rec, lines))
