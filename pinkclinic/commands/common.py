"""The flow doctor, flame and heap share: record, then (unless --collect-only) analyse,
render, print the summary and open the report."""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from pathlib import Path

from pinkclinic.recording import Recording
from pinkclinic.session.options import SessionOptions
from pinkclinic.session.run import SessionResult, exit_code, run_session
from pinkclinic.session.ui import Phases

# after_record(rec, result, ui): work that belongs to the recording (source lines, checks)
AfterRecord = Callable[[Recording, SessionResult, Phases], None]
# finish(rec, ui) -> (report path, a function that prints the summary)
Finish = Callable[[Recording, Phases], tuple[Path, Callable[[], None]]]


def run_recording(opts: SessionOptions, collectors: list, finish: Finish, *,
                  probe_features: list[str] | None = None, probe_options: dict | None = None,
                  after_record: AfterRecord | None = None) -> int:
    ui = Phases(opts.kind)
    report = summary = None
    with ui:
        result = run_session(opts, collectors, probe_features=probe_features,
                             probe_options=probe_options, ui=ui)
        rec = result.rec
        if after_record is not None:
            after_record(rec, result, ui)
        if result.outcome == "error":  # the run failed after the server listened
            ui.note(result.detail)
        rec.mark("finished")
        if not opts.collect_only:
            report, summary = finish(rec, ui)
    if summary is None:
        print(f"recording: {rec.path}")
    else:
        summary()
        if opts.open_report:
            webbrowser.open(report.resolve().as_uri())
    return exit_code(result.outcome)
