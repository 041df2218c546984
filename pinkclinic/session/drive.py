"""The load phase: pinkclinic's own load, an --on-port command, or none.

Each mode returns when its load is done, when the run is stopped (Ctrl-C,
SIGTERM) or when the target exits; the caller marks the load window around it.
The bench load runs in a thread of ours (its connections live in a worker
process, so this process stays free for the samplers); its per-second ticks
are written to ``load.jsonl`` as they arrive.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable

from pinkclinic import procs, redact
from pinkclinic.errors import PinkError
from pinkclinic.interrupt import StopSignal
from pinkclinic.jsonio import write_json
from pinkclinic.recording import Recording
from pinkclinic.session.routes_file import write_routes
from pinkclinic.session.ui import Phases
from pinkclinic.target.base import last_line, log_tail
from pinkclinic.target.watchdog import Watchdog

POLL_S = 0.1
TRACED_KINDS = ("doctor", "waits")  # recordings whose diagnosis has a per-route table


def _watch(stop: StopSignal, target, until: Callable[[], bool], deadline: float | None = None) -> None:
    """Wait until ``until()``, a stop signal, the target's exit, or ``deadline``."""
    while not until():
        if stop.wait(POLL_S):
            return
        if target.poll() is not None:
            stop.set("the target exited")
            return
        if deadline is not None and time.monotonic() >= deadline:
            return


def bench_load(rec: Recording, url: str, load_args: list[str], stop: StopSignal, target,
               ui: Phases) -> dict | None:
    """Run ``pinkclinic bench`` options against ``url``; returns the result's JSON."""
    from pinkclinic.load import run_load
    from pinkclinic.loadargs import parse_bench_args

    spec = parse_bench_args(load_args, base_url=url)
    if getattr(spec, "workers", None) in (None, 0):
        spec.workers = 1  # keep the connections out of this process
    # per-request trace for the per-route table of a diagnosis (doctor, waits); HTTP/1.1's
    # engine is the one that keeps it
    spec.trace = (rec.manifest.get("kind") in TRACED_KINDS
                  and getattr(spec, "protocol", "http/1.1") == "http/1.1")
    writer = rec.open_stream("load", url=redact.url(url), args=redact.argv(load_args))
    load_stop = threading.Event()
    box: dict = {}

    def on_tick(record: dict) -> None:
        writer.write(record)
        ui.progress(f"{record.get('requests', 0):,} req/s · p99 {record.get('p99_ms', 0):.1f} ms"
                    f"{' · errors ' + str(record['errors']) if record.get('errors') else ''}")

    def run() -> None:
        try:
            box["result"] = run_load(spec, on_tick=on_tick, stop=load_stop)
        except BaseException as e:  # reported in the main thread
            box["error"] = e

    thread = threading.Thread(target=run, name="pinkclinic-load", daemon=True)
    rec.mark("load_start")
    thread.start()
    _watch(stop, target, lambda: not thread.is_alive())
    load_stop.set()
    thread.join()
    rec.mark("load_end")
    writer.close()
    if "error" in box:
        err = box["error"]
        if isinstance(err, PinkError):
            raise err
        raise PinkError(f"the load generator failed: {type(err).__name__}: {err}")
    if spec.trace:
        write_routes(rec, box["result"], spec.templates())
    result = box["result"].to_json()
    # the marks above include the worker's start-up; the generator knows when it really sent
    if result.get("start_epoch") and result.get("finish_epoch"):
        rec.update(timings={"load_start": result["start_epoch"], "load_end": result["finish_epoch"]})
    write_json(rec.file("load-result.json"), result)
    rec.register("load_result", "load-result.json", format="json")
    return result


def on_port_load(rec: Recording, command: str, port: int, stop: StopSignal, target,
                 ui: Phases) -> str | None:
    """Run the user's load command with $PORT set, until it exits. Returns ``None`` when it
    ran (or was stopped by pinkclinic), else one line saying how it failed.

    Its process group is in the watchdog's care (the launched target's, or one of its own
    when attached), so a ``kill -9`` of pinkclinic takes the command's children too, not
    only the shell that has the parent-death signal."""
    env = {**os.environ, "PORT": str(port)}
    log_path = rec.file("on-port.log")
    log = open(log_path, "ab")  # noqa: SIM115 - closed below
    rec.register("on_port_log", "on-port.log", format="text")
    watchdog = getattr(target, "watchdog", None)
    own_watchdog = Watchdog() if watchdog is None else None
    watchdog = watchdog or own_watchdog
    try:
        proc = subprocess.Popen(["/bin/sh", "-c", command], env=env, stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=procs.pdeathsig_preexec(signal.SIGTERM))
    except OSError as e:
        log.close()
        if own_watchdog is not None:
            own_watchdog.close()
        raise PinkError(f"--on-port command could not start: {e.strerror}") from None
    watchdog.watch_group(proc.pid)
    rec.mark("load_start")
    ui.progress(f"running: {command}")
    on_its_own = False
    try:
        _watch(stop, target, lambda: proc.poll() is not None)
        on_its_own = proc.poll() is not None
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                procs.kill_tree(proc.pid, sig=signal.SIGKILL, timeout=2)
                proc.wait(5)
        # whatever it left in its group (a backgrounded child) goes with it
        procs.signal_pids(procs.group_pids(proc.pid), signal.SIGKILL, cont=False)
        watchdog.forget_group(proc.pid)
        if own_watchdog is not None:
            own_watchdog.close()
        rec.mark("load_end")
        log.close()
    rc = proc.returncode
    _show_tail(log_path, ui)
    rec.update(on_port={"returncode": rc, "ended": "on its own" if on_its_own else "stopped"})
    if not on_its_own or rc == 0:
        return None
    line = last_line(log_path)
    return (f"the --on-port command failed with exit code {rc}"
            + (f"; its last line: {line!r}" if line else "; it printed nothing"))


ON_PORT_TAIL = 15  # lines of the --on-port command's output shown after it ends


def _show_tail(path, ui: Phases) -> None:
    """The end of the load command's own report (wrk's or k6's summary), on stderr."""
    lines = [ln.rstrip() for ln in log_tail(path, 4096).splitlines() if ln.strip()]
    if lines:
        ui.note(f"--on-port output (the end of {path}):\n  "
                + "\n  ".join(lines[-ON_PORT_TAIL:]))


def no_load(stop: StopSignal, target, duration: float | None, ui: Phases) -> None:
    ui.progress("recording: drive your own traffic, Ctrl-C to finish"
                if duration is None else f"recording for {duration:g} s")
    deadline = None if duration is None else time.monotonic() + duration
    _watch(stop, target, lambda: False, deadline)
