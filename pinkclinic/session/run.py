"""One recording run: launch or attach, collect, drive load, stop, finish the recording.

Every exit path (done, Ctrl-C, SIGTERM, the target crashing, a startup error)
goes through the same ``finally``: collectors stop, the target's whole tree is
stopped, and the manifest records what happened. The caller then analyses and
renders from whatever was collected.
"""

from __future__ import annotations

import shutil
import signal
import threading
from dataclasses import dataclass, field

from pinkclinic import target as tgt
from pinkclinic.errors import PinkError
from pinkclinic.exits import EXIT_FAILED, EXIT_INTERRUPTED
from pinkclinic.interrupt import StopSignal
from pinkclinic.recording import Recording
from pinkclinic.session import drive
from pinkclinic.session.collectors import Collector
from pinkclinic.session.options import SessionOptions
from pinkclinic.session.outcome import outcome_of
from pinkclinic.session.ui import Phases


@dataclass
class SessionResult:
    rec: Recording
    outcome: str
    detail: str
    load_result: dict | None = None
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _start_target(opts: SessionOptions, probe_features: list[str] | None, probe_options: dict):
    if opts.pid is not None:
        t = tgt.attach(opts.pid)
        rec = Recording.create(opts.dest, opts.name or str(opts.pid), opts.kind,
                               command=t.command or [], options=opts.manifest_options())
        rec.mark("attached")
        return t, rec
    t = tgt.spawn(opts.command, port=opts.port)
    try:
        rec = Recording.create(opts.dest, opts.name or str(t.pid), opts.kind,
                               command=opts.command, options=opts.manifest_options())
    except BaseException:
        t.stop()
        raise
    env = tgt.probe_env(rec.path, probe_features, **probe_options) if probe_features else None
    rec.register("target_log", "target.log", format="text")
    t.release(rec.file("target.log"), env)
    rec.mark("launched")
    return t, rec


def _drive(opts: SessionOptions, rec: Recording, target, listening, url: str, stop: StopSignal,
           ui: Phases) -> dict | None:
    """The load phase; raises PinkError when the load itself failed."""
    if opts.on_port:
        ui.phase("load running (--on-port)")
        failure = drive.on_port_load(rec, opts.on_port, listening.port, stop, target, ui)
        if failure:
            raise PinkError(failure)
        return None
    if opts.no_load:
        ui.phase("recording")
        drive.no_load(stop, target, opts.duration, ui)
        return None
    ui.phase(f"load running against {url}")
    return drive.bench_load(rec, url, opts.load_args, stop, target, ui)


def run_session(opts: SessionOptions, collectors: list[Collector], *,
                probe_features: list[str] | None = None, probe_options: dict | None = None,
                ui: Phases | None = None) -> SessionResult:
    ui = ui or Phases(opts.kind)
    result: SessionResult | None = None
    with StopSignal() as stop:
        ui.phase("starting" if opts.pid is None else f"attaching to PID {opts.pid}")
        target, rec = _start_target(opts, probe_features, probe_options or {})
        started: list[Collector] = []
        load_result, listened, quiet = None, False, False
        failure: BaseException | None = None
        try:
            for c in collectors:
                if c.start_when == "launched":
                    c.start(rec, target)
                    started.append(c)
                    for note in c.notes:  # e.g. why the probe could not be injected
                        ui.note(note)
            ui.phase("waiting for the server to listen")
            listening = target.wait_listening(opts.start_timeout, port=opts.port,
                                              probe_dir=rec.path, stop=stop.event)
            if listening is None:  # stopped while waiting
                raise _Interrupted()
            listened = True
            url = opts.url or listening.url
            rec.mark("listening")
            rec.update(target={**target.manifest_target(), "port": listening.port, "url": url})
            for c in collectors:
                if c.start_when == "listening":
                    c.start(rec, target)
                    started.append(c)
            if not any(c.required and c.missing for c in started):  # else the caller says why
                load_result = _drive(opts, rec, target, listening, url, stop, ui)
        except _Interrupted:
            pass
        except (PinkError, KeyboardInterrupt) as e:
            failure = e
            quiet = not listened and not rec.target_said_something()  # before stopping writes to it
        finally:
            hurry = _defer_signals(stop)
            ui.phase("stopping")
            rec.mark("stopping")
            for c in started:
                if c.stop_when == "before-stop":
                    _stop_quietly(c, rec, ui)
            ending = target.stop(opts.stop_timeout, hurry=hurry)
            rec.mark("stopped")
            for c in started:
                if c.stop_when == "after-stop":
                    _stop_quietly(c, rec, ui)
            outcome, detail = outcome_of(opts, rec, target, stop, ending, failure, listened)
            rec.update(target=target.manifest_target(), status={"outcome": outcome, "detail": detail})
            missing = sorted({m for c in collectors for m in c.missing})
            notes = [n for c in collectors for n in c.notes]
            if missing:
                rec.update(signals_missing=missing)
            result = SessionResult(rec, outcome, detail, load_result, missing, notes)
        if failure is not None and not listened and not stop.interrupted:
            if quiet:  # nothing to look at: the one-line error says it all
                shutil.rmtree(rec.path, ignore_errors=True)
            raise failure
        if isinstance(failure, KeyboardInterrupt) or stop.count >= 2:
            raise RecordingInterrupted(rec)  # a second Ctrl-C: the recording is kept, no report
    # a PinkError after the server listened (e.g. the load failed mid-run) is the result's
    # outcome "error" with its message as detail: the caller says it once
    return result


def exit_code(outcome: str) -> int:
    """0 for a completed run (or a target that exited with code 0); 130 if interrupted;
    1 if the target crashed or the run failed (the report is still written)."""
    if outcome == "interrupted":
        return EXIT_INTERRUPTED
    return EXIT_FAILED if outcome in ("target-crashed", "error") else 0


class _Interrupted(Exception):
    pass


class RecordingInterrupted(KeyboardInterrupt):
    """A second Ctrl-C: the run stopped without analysis; ``rec`` holds what was recorded."""

    def __init__(self, rec: Recording):
        super().__init__()
        self.rec = rec


def _stop_quietly(c: Collector, rec: Recording, ui: Phases) -> None:
    try:
        c.stop(rec)
    except PinkError as e:
        c.notes.append(e.message)
        ui.note(e.message)


def _defer_signals(stop: StopSignal) -> threading.Event:
    """While the run winds down, a further Ctrl-C must not abort the clean-up half-way
    (StopSignal raises KeyboardInterrupt on the second one): it is counted, and it
    hurries the stop along instead (straight to SIGKILL). ``StopSignal.__exit__``
    puts the previous handlers back."""
    hurry = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        return hurry

    def handle(signum, frame) -> None:
        stop.count += 1
        if stop.reason is None:
            stop.reason = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
        stop.event.set()
        if stop.count >= 2:
            hurry.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handle)
    if stop.count >= 2:
        hurry.set()
    return hurry
