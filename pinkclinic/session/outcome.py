"""How a run ended, for the manifest's ``status``: ``{"outcome": ..., "detail": ...}``.
How the target's process ended is one input (:mod:`pinkclinic.target.ending`).

Outcomes, most important first:

* ``interrupted``: Ctrl-C or SIGTERM stopped the run early (exit code 130). With
  ``--no-load`` a single Ctrl-C after the server listened is the documented way to
  finish, so that run is ``completed``;
* ``target-crashed``: the target ended on its own with a non-zero exit code or of a
  signal nobody in pinkclinic sent (exit code 1); ``target-exited``: with exit code 0;
  the detail says when, e.g. "the target crashed 2.5 s into the load: exit code 1; its
  last line: 'RuntimeError: database connection lost'";
* ``error``: the load failed (an ``--on-port`` command that exited non-zero, the load
  generator failing) while the target kept running (exit code 1);
* ``completed``.
"""

from __future__ import annotations

from pinkclinic.errors import PinkError
from pinkclinic.interrupt import StopSignal
from pinkclinic.recording import Recording
from pinkclinic.session.options import SessionOptions
from pinkclinic.target.base import last_line
from pinkclinic.target.ending import Ending, describe


def _when(rec: Recording, target, ending: Ending) -> str:
    t = getattr(target, "exit_time", None) or ending.t
    timings = rec.manifest.get("timings", {})
    start = timings.get("load_start")
    if start is not None and t >= start:
        return f"{t - start:.1f} s into the load"
    if timings.get("listening") is not None and t >= timings["listening"]:
        return f"{t - timings['listening']:.1f} s after it started listening"
    return ""


def outcome_of(opts: SessionOptions, rec: Recording, target, stop: StopSignal,
               ending: Ending | None, failure: BaseException | None,
               listened: bool) -> tuple[str, str]:
    if isinstance(failure, KeyboardInterrupt) or stop.interrupted:
        reason = stop.reason or "Ctrl-C"
        if opts.no_load and listened and reason == "Ctrl-C" and stop.count == 1:
            return "completed", "recording ended with Ctrl-C"
        phase = "after the load" if "load_end" in rec.manifest.get("timings", {}) else "early"
        return "interrupted", f"{reason}: stopped {phase}"
    if ending is not None and ending.on_its_own:
        detail = describe(ending, after=_when(rec, target, ending),
                          last_line=last_line(getattr(target, "log_path", None)))
        return ending.manifest_outcome(), detail
    if isinstance(failure, PinkError):
        return "error", failure.message
    return "completed", ""
