"""The flow doctor, flame and heap share: record, then (unless --collect-only) analyse,
render, print the summary and open the report.

A Ctrl-C (or SIGTERM) once the recording is finished does not throw the work away:
the first one lets the report be finished (it takes a second or so), a second one
skips it; either way the manifest's ``status.report`` says what happened and the
terminal says how to build the report later (``pinkclinic report DIR``). The exit
code is then 130, as for any interrupted run.
"""

from __future__ import annotations

import sys
import webbrowser
from collections.abc import Callable
from pathlib import Path

from pinkclinic.commands.summary import print_ending
from pinkclinic.errors import UsageError
from pinkclinic.exits import EXIT_INTERRUPTED
from pinkclinic.interrupt import StopSignal
from pinkclinic.recording import Recording
from pinkclinic.session.options import SessionOptions
from pinkclinic.session.run import (
    RecordingInterrupted,
    SessionResult,
    exit_code,
    run_session,
)
from pinkclinic.session.ui import Phases

# after_record(rec, result, ui): work that belongs to the recording (source lines, checks)
AfterRecord = Callable[[Recording, SessionResult, Phases], None]
# finish(rec, ui) -> (report path, a function that prints the summary)
Finish = Callable[[Recording, Phases], tuple[Path, Callable[[], None]]]
# commands whose summary already says how the run ended (flame: render.flame.outcome_line;
# doctor: from diagnosis.json's "run")
SUMMARY_SAYS_ENDING = ("flame", "doctor")


def _recording_kept(rec: Recording, why: str) -> None:
    rec.update(status={"report": f"not written: {why}"})
    print(f"recording kept: pinkclinic report {rec.path}", file=sys.stderr)


def run_recording(opts: SessionOptions, collectors: list, finish: Finish, *,
                  probe_features: list[str] | None = None, probe_options: dict | None = None,
                  after_record: AfterRecord | None = None) -> int:
    baseline, fail_if = opts.extra.get("baseline"), tuple(opts.extra.get("fail_if") or ())
    if baseline is not None or fail_if:
        from pinkclinic.commands.diff import check_baseline, parse_limits

        if fail_if and baseline is None:
            raise UsageError("--fail-if needs --baseline DIR (the recording to compare with)")
        parse_limits(fail_if)
        check_baseline(baseline, opts.kind)
    ui = Phases(opts.kind)
    report = summary = None
    with ui:
        try:
            result = run_session(opts, collectors, probe_features=probe_features,
                                 probe_options=probe_options, ui=ui)
        except RecordingInterrupted as e:  # a second Ctrl-C during the run: no analysis
            _recording_kept(e.rec, "a second Ctrl-C stopped pinkclinic before the analysis")
            return EXIT_INTERRUPTED
        rec = result.rec
        with StopSignal() as late:  # Ctrl-C from here on: finish the report if possible
            try:
                if after_record is not None:
                    after_record(rec, result, ui)
                rec.mark("finished")
                if not opts.collect_only:
                    if late.interrupted:
                        ui.note("interrupted: finishing the report (Ctrl-C again to skip it)")
                    report, summary = finish(rec, ui)
            except KeyboardInterrupt:
                _recording_kept(rec, f"{late.reason or 'Ctrl-C'} twice while it was being made")
                return EXIT_INTERRUPTED
        if late.interrupted:
            rec.update(status={"report": f"written after {late.reason or 'Ctrl-C'}: the "
                               "recording was complete"})
    if summary is None:
        print(f"recording: {rec.path}")
        print_ending(result.outcome, result.detail)
    else:
        summary()
        if opts.kind not in SUMMARY_SAYS_ENDING:
            print_ending(result.outcome, result.detail)
        if opts.open_report:
            webbrowser.open(report.resolve().as_uri())
    if late.interrupted:
        return EXIT_INTERRUPTED
    code = exit_code(result.outcome)
    if baseline is not None and summary is not None and code == 0:
        from pinkclinic.commands.diff import after_run

        return after_run(rec.path, baseline, fail_if)
    return code
