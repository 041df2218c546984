"""The collectors a session drives: the interface, and the adapters for the
out-of-process collectors (psutil sampler, py-spy); memray's are in
:mod:`pinkclinic.session.memray_attach`.

A collector starts at one of two moments, right after launch (a psutil sampler
must see start-up) or once the target listens (py-spy needs a loaded
interpreter), and stops before the target is stopped (py-spy must detach from
a live process) or after (a sampler sees the shutdown). ``missing`` lists the
signals it could not provide, for the report's "signals not available" line.
"""

from __future__ import annotations

from pinkclinic.collect import CollectorUnavailable
from pinkclinic.collect.psutil_sampler import ProcessSampler
from pinkclinic.collect.pyspy import PySpy
from pinkclinic.recording import Recording


class Collector:
    name = "collector"
    start_when = "listening"      # "launched" | "listening"
    stop_when = "before-stop"     # "before-stop" | "after-stop"
    required = False              # the run means nothing without it: no load if it failed

    def __init__(self) -> None:
        self.missing: list[str] = []
        self.notes: list[str] = []

    def start(self, rec: Recording, target) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def stop(self, rec: Recording) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class PsutilCollector(Collector):
    """CPU, memory, threads, fds per process of the tree: from launch until after the stop."""

    name = "psutil"
    start_when = "launched"
    stop_when = "after-stop"

    def __init__(self, interval_s: float = 0.010, *, thread_states: bool = True):
        super().__init__()
        self.interval_s = interval_s
        self.thread_states = thread_states  # threads.jsonl: tells a GIL wait from a sleep
        self.sampler = None

    def start(self, rec: Recording, target) -> None:
        def returncode(pid: int) -> int | None:
            return target.returncode if pid == target.pid else None

        self.sampler = ProcessSampler.for_recording(rec, target.pid, interval=self.interval_s,
                                                    returncode=returncode,
                                                    thread_states=self.thread_states).start()

    def stop(self, rec: Recording) -> None:
        if self.sampler is not None:
            self.sampler.stop()


class PySpyCollector(Collector):
    """py-spy over the tree, from the moment the server listens until just before the stop."""

    name = "py-spy"
    start_when = "listening"
    stop_when = "before-stop"

    def __init__(self, rate: int = 100, *, idle: bool = True, native: bool = False,
                 subprocesses: bool = True, nonblocking: bool = True, required: bool = False):
        super().__init__()
        self.rate, self.idle, self.native, self.subprocesses = rate, idle, native, subprocesses
        self.nonblocking = nonblocking
        self.required = required  # flame's only collector
        self.spy = None

    def start(self, rec: Recording, target) -> None:
        spy = PySpy(target.pid, rec.file("pyspy.speedscope.json"), rate_hz=self.rate,
                    subprocesses=self.subprocesses, native=self.native, idle=self.idle,
                    log_path=rec.file("pyspy.log"), watchdog=getattr(target, "watchdog", None),
                    nonblocking=self.nonblocking)
        try:
            spy.start()
        except CollectorUnavailable as e:
            self.missing.append(e.signal)
            self.notes.append(e.message)
            return
        self.spy = spy
        spy.register(rec)

    def stop(self, rec: Recording) -> None:
        if self.spy is None:
            return
        result = self.spy.stop()
        rec.update(streams={"pyspy": {**self.spy.manifest_entry(), "samples": result["samples"],
                                      "errors": result["errors"], "hung": result["hung"]}})
        if not result.get("bytes"):
            self.missing.append("stacks")
            self.notes.append("py-spy wrote no samples; stack samples are missing")
