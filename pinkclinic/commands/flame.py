"""``pinkclinic flame``: record a CPU (or wall-clock) profile under load, render the flame graph."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from pinkclinic.commands.common import run_recording
from pinkclinic.commands.summary import short_path
from pinkclinic.errors import PinkError, UsageError
from pinkclinic.profile.app_code import app_code, recording_app_modules
from pinkclinic.recording import Recording
from pinkclinic.session.collectors import PsutilCollector, PySpyCollector
from pinkclinic.session.options import SessionOptions

PROFILERS = ("py-spy", "pyinstrument")


def flame_plan(opts: SessionOptions) -> tuple[list, list[str] | None]:
    """Collectors and probe features for the chosen profiler.

    py-spy records ``--idle`` only when asked: without it py-spy drops the samples of
    threads the OS shows waiting, which is the CPU view (a ``time.sleep`` or a blocking
    ``recv`` must not look busy). ``--native`` needs blocking mode (py-spy refuses it
    with ``--nonblocking``), so py-spy then pauses the target for each sample.
    """
    x = opts.extra
    if x["profiler"] == "pyinstrument":
        if opts.pid is not None:
            raise UsageError("--profiler pyinstrument runs inside the target and cannot attach "
                             "to a PID; use the default py-spy profiler with --pid")
        if x["native"]:
            raise UsageError("--native needs --profiler py-spy")
        return [], ["pyinstrument", "listen"]
    # the tree's CPU time every 0.1 s (processes.jsonl): diff turns samples into CPU time with
    # it, as py-spy's "running" samples also count time spent runnable, waiting for a core
    return [PySpyCollector(rate=x["rate"], native=x["native"], idle=bool(x["idle"]),
                           nonblocking=not x["native"], required=True),
            PsutilCollector(0.1, thread_states=False)], None


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


def render(rec: Recording, out=None, lines: bool | None = None, idle: bool | None = None,
           profile=None):
    from pinkclinic.render.flame_report import report_flame

    return report_flame(rec, out, lines=wants_lines(rec, lines), idle=idle, profile=profile)


def save_sources(rec: Recording, ui):
    """The source files of the hottest app frames, into ``sources.json`` (the page's
    source heatmap); returns the profile it read, which the report reuses."""
    from pinkclinic.profile import build_profile
    from pinkclinic.profile.heat import save_sources as save

    ui.phase("saving source files")
    with app_code(recording_app_modules(rec)):
        try:
            profile = build_profile(rec, lines=wants_lines(rec), heat=True)
        except PinkError:  # an unreadable profile: the report step says so, as before
            return None
        save(rec, profile)
    return profile


def _headline(profile, meta: dict) -> tuple[str, bool]:
    """The first console line, and whether percentages are of the wall clock."""
    total, busy = profile.total(idle=True), profile.total(idle=False)
    wall = bool(meta.get("idle"))
    if not meta.get("idle_recorded", True):
        head = (f"{total:,.0f} samples on CPU (recorded without --idle: waiting threads "
                "were not sampled; --idle adds them)")
    else:
        if profile.unit == "samples":
            head = (f"{total:,.0f} samples recorded, {busy:,.0f} busy (judged by their leaf "
                    "frames)")
        else:
            head = f"{total:,.1f} s recorded, {busy:,.1f} s busy"
    return f"[bold magenta]flame[/] {head}; hottest app functions" \
        f"{' (wall clock)' if wall else ''}:", wall


def summarize(rec: Recording, report, console: Console | None = None,
              lines: bool | None = None, idle: bool | None = None, profile=None) -> None:
    from pinkclinic.profile import build_profile
    from pinkclinic.profile.ranking import app_hotspots
    from pinkclinic.render.flame import outcome_line

    console = console or Console(highlight=False, soft_wrap=True)
    if profile is None:
        profile = build_profile(rec, lines=wants_lines(rec, lines))
    if idle is not None:
        profile.meta["idle"] = idle
    head, wall = _headline(profile, profile.meta)
    console.print(head)
    base = profile.total(idle=wall)
    hot = app_hotspots(profile, idle=wall)[:5] if base > 0 else []
    if hot:  # the terms the report's function table and tooltips use
        console.print(f"  [dim]{'self':>6}  {'own':>6}  {'total':>6}  (self: its own lines; "
                      "own: with the library code it calls; total: with everything it calls)[/]")
    for stat in hot:
        f = profile.frames[stat.frame]
        console.print(f"  {100 * stat.self / base:5.1f}%  {100 * stat.own / base:5.1f}%  "
                      f"{100 * stat.total / base:5.1f}%  "
                      f"[bold]{escape(f.function)}[/]  [dim]{escape(short_path(f.file))}:{f.line}[/]")
    ending = outcome_line(profile.meta)
    if ending:
        console.print(f"  [yellow]{escape(ending)}[/]")
    for w in profile.meta.get("warnings", []):
        console.print(f"  [yellow]{escape(w)}[/]")
    console.print(f"  report: [bold]{escape(str(report))}[/]")


def _check_stacks(rec: Recording, result) -> None:
    """py-spy is flame's only collector: a run without stacks is an error, not a report."""
    if "stacks" not in result.missing or result.outcome == "interrupted":
        return
    why = "; ".join(result.notes) or "py-spy recorded no stack samples"
    raise PinkError(f"{why} (recording kept in {rec.path})")


def run_flame(opts: SessionOptions) -> int:
    collectors, features = flame_plan(opts)

    built: dict = {}  # the profile read once at the end of the run, for the report too

    def check(rec: Recording, result, ui) -> None:
        if features:
            _check_pyinstrument(rec)
        else:
            _check_stacks(rec, result)
        built["profile"] = save_sources(rec, ui)

    def finish(rec: Recording, ui):
        ui.phase("writing the flame graph")
        apps = recording_app_modules(rec)  # an installed app's package is the user's code
        with app_code(apps):
            profile = built.pop("profile", None)
            report = render(rec, profile=profile)

        def show() -> None:
            with app_code(apps):
                summarize(rec, report, profile=profile)
        return report, show

    # short pyinstrument segments, so the window can leave start-up imports out
    probe = {"pyinstrument_interval_s": 0.001, "pyinstrument_segment_s": 0.25}
    return run_recording(opts, collectors, finish, probe_features=features,
                         probe_options=probe if features else {}, after_record=check)


def rerender(rec: Recording, fmt: str, output: str | None, lines: bool | None = None,
             idle: bool | None = None):
    """``pinkclinic report`` for a flame recording (``idle``: ``--idle/--no-idle``)."""
    from pinkclinic.render.flame_report import export_recording

    if fmt == "html":
        with app_code(recording_app_modules(rec)):
            report = render(rec, output, lines, idle)
            summarize(rec, report, lines=lines, idle=idle)
        return report
    if fmt == "text":
        summarize(rec, rec.report_path if rec.report_path.exists() else "(not rendered)",
                  lines=lines, idle=idle)
        return None
    return export_recording(rec, fmt, output, idle=idle, lines=wants_lines(rec, lines))
