"""Session adapters for the out-of-process collectors (psutil sampler, py-spy)."""

from __future__ import annotations

from pinkclinic.collect import CollectorUnavailable
from pinkclinic.recording import Recording
from pinkclinic.session.collector import Collector


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
        from pinkclinic.collect.psutil_sampler import ProcessSampler

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
                 subprocesses: bool = True, nonblocking: bool = True):
        super().__init__()
        self.rate, self.idle, self.native, self.subprocesses = rate, idle, native, subprocesses
        self.nonblocking = nonblocking
        self.spy = None

    def start(self, rec: Recording, target) -> None:
        from pinkclinic.collect.pyspy import PySpy

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
