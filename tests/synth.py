"""Synthetic recordings: doctor's streams written in a test, no process started.

Each builder writes a stream the way its collector does (``Recording.create``, the
manifest's ``streams``, :class:`pinkclinic.jsonio.JsonlWriter`; the formats are in
docs/recording-format.md), so the analysers read it through the real readers
(``RecordingData``, ``probe_records``, the speedscope reader). Use it to put each
threshold of an analyser to the test from both sides, in milliseconds.

Times: the load window is ``[s.t0, s.t1]`` (``load_s`` long, 10 s by default), and
the analysers trim 0.2 s off each edge: they read ``[s.w0, s.w1]``
(``s.data().window``). The target launched 1 s before the load and was stopped 0.5 s
after it. Streams cover ``[t0 - 0.5, t1 + 0.5]`` by default.

Usage::

    from tests.synth import LOOP_IDLE, Synth, frame, on_loop, spy_thread

    s = Synth(tmp_path)                       # a doctor recording, nothing in it yet
    s.processes(pid=100, cores=0.3)           # processes.jsonl: 0.3 cores, flat 50 MB RSS
    s.processes(pid=101, ppid=100, cores=lambda t: 0.1, rss=lambda t: 50e6 + 1e6 * t)
    s.thread_states(100, {100: (5, 20, 0)})   # threads.jsonl: running, futex, blocked
    p = s.probe(pid=100)                      # probe-100.jsonl with its header
    p.loop()                                  # a loop "start" record on the main thread
    p.lags(p50_ms=2.0)                        # a lag record every 100 ms
    p.blocks(share=0.3, stack=on_loop(frame("hot")), on_cpu=True)  # stalls, 30% of [w0, w1]
    p.block(t=s.t0 + 1, dur_ms=500, stack=on_loop(frame("handler")), on_cpu=False)
    p.gcs(share=0.1)                          # GC pauses, 10% of [w0, w1]
    p.gc(t=s.t0 + 2, dur_ms=30, stack=on_loop(frame("alloc")))
    p.tasks(10); p.waits([(on_loop(frame("fetch")), 3)])
    p.record("error", t=s.t0, feature="gc", message="...")   # any other record
    s.load(rps=100, p50_ms=2.0)               # load.jsonl + load-result.json
    s.routes([("/report/1", s.t0 + 1, 30.0, 200), ("/health", s.t0 + 1, 1.0, 200)])  # routes.json
    s.pyspy(spy_thread(100, 100, [(on_loop(frame("hot")), 0.7), (LOOP_IDLE, 0.3)]))
    data = s.data()                           # a fresh RecordingData
    diagnosis = s.diagnose()                  # analysis.diagnose(...): writes diagnosis.json

Numbers given as ``cores``, ``rss``, ``rps``, ``p50_ms`` may be functions of the time
since ``t0``. Most builders take ``start=`` / ``end=`` to cover another span (a stream
that ends early, a process born late). Stacks are lists of frames ``[func, file,
line]``, outermost first, as the probe writes them; :func:`frame` makes an app frame
(``/srv/app.py``), :func:`on_loop` runs frames as a callback of asyncio's loop, and the
constants below are frames of asyncio, threading and a framework (``SITE_FRAME``).
Heap's synthetic sites and records are in ``tests/heap/synth.py``.
"""

from __future__ import annotations

import itertools
import math
import sysconfig
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.diagnose import diagnose
from pinkclinic.jsonio import JsonlWriter, write_json
from pinkclinic.recording import Recording
from pinkclinic.window import EDGE_TRIM_S

T0 = 1_700_000_000.0
_names = itertools.count(1)
APP = "/srv/app.py"
STDLIB = sysconfig.get_paths()["stdlib"]
SITE = sysconfig.get_paths()["purelib"]
SITE_FRAME = ["Router.__call__", f"{SITE}/starlette/routing.py", 700]  # framework code
RUN_FOREVER = ["BaseEventLoop.run_forever", f"{STDLIB}/asyncio/base_events.py", 608]
RUN_ONCE = ["BaseEventLoop._run_once", f"{STDLIB}/asyncio/base_events.py", 1898]
HANDLE = ["Handle._run", f"{STDLIB}/asyncio/events.py", 84]
SELECT = ["EpollSelector.select", f"{STDLIB}/selectors.py", 468]
THREAD_RUN = ["Thread.run", f"{STDLIB}/threading.py", 982]
COND_WAIT = ["Condition.wait", f"{STDLIB}/threading.py", 327]
LOOP_IDLE = [RUN_FOREVER, RUN_ONCE, SELECT]    # the loop waiting in its selector


def frame(func: str, line: int = 10, file: str = APP) -> list:
    """One frame of the app's code (``[func, file, line]``)."""
    return [func, file, line]


def on_loop(*frames: list) -> list:
    """A stack running ``frames`` as a callback of asyncio's loop (outermost first)."""
    return [RUN_FOREVER, RUN_ONCE, HANDLE, *frames]


Value = float | Callable[[float], float]


def _at(v: Value, t: float) -> float:
    return float(v(t)) if callable(v) else float(v)


class Synth:
    """A recording folder being built; see the module's doc."""

    def __init__(self, dest: str | Path, *, load_s: float = 10.0, t0: float = T0,
                 kind: str = "doctor", name: str | None = None, command: Sequence[str] = ("python", "app.py"),
                 options: dict | None = None, outcome: str = "completed", load_phase: bool = True):
        self.t0, self.t1 = t0, t0 + load_s
        trim = EDGE_TRIM_S if load_s > 4 * EDGE_TRIM_S else 0.0
        self.w0, self.w1 = self.t0 + trim, self.t1 - trim   # the window the analysers read
        name = name or f"synth{next(_names)}"  # several recordings may share a folder
        self.rec = Recording.create(dest, name, kind, command=list(command),
                                    options={"load": "-c 10 -d 10 /"} if options is None else options)
        timings = {"created": t0 - 1.5, "launched": t0 - 1.0, "listening": t0 - 0.8,
                   "stopping": self.t1 + 0.5, "stopped": self.t1 + 0.6, "finished": self.t1 + 0.7}
        if load_phase:
            timings.update(load_start=self.t0, load_end=self.t1)
        self.rec.update(timings=timings, status={"outcome": outcome, "detail": ""},
                        target={"pid": 100, "attached": False, "port": 8000,
                                "url": "http://127.0.0.1:8000", "returncode": None})

    # -- helpers ---------------------------------------------------------------------
    def span(self, start: float | None, end: float | None) -> tuple[float, float]:
        return (self.t0 - 0.5 if start is None else start, self.t1 + 0.5 if end is None else end)

    def times(self, step: float, start: float | None = None, end: float | None = None) -> list[float]:
        a, b = self.span(start, end)
        return [a + i * step for i in range(math.floor((b - a) / step + 1e-9) + 1)]

    def data(self) -> RecordingData:
        """A fresh reader over the recording as it is now (reloads the manifest)."""
        return RecordingData(Recording.open(self.rec.path))

    def diagnose(self) -> dict:
        return diagnose(self.data())

    # -- processes.jsonl / threads.jsonl ----------------------------------------------
    def _processes_writer(self, cpu_count: int) -> JsonlWriter:
        if getattr(self, "_procs", None) is None:
            path = self.rec.register("processes", "processes.jsonl", format="jsonl")
            self._procs = JsonlWriter(path, "processes", 1, 1000, interval_ms=10, root_pid=100,
                                      cpu_count=cpu_count)
        return self._procs

    def processes(self, pid: int = 100, *, ppid: int = 1, cores: Value = 0.2,
                  rss: Value = 50e6, interval: float = 0.05, start: float | None = None,
                  end: float | None = None, cpu_count: int = 2, exit_at: float | None = None,
                  tick: float = 0.0) -> None:
        """One process's psutil samples every ``interval``: CPU at ``cores`` (a number or
        a function of the time since ``t0``) accumulated into ``cpu_user_s`` (rounded
        down to ``tick`` seconds if given, as the kernel's 10 ms ticks do), RSS ``rss``
        bytes (same). ``exit_at`` adds an exit event."""
        w = self._processes_writer(cpu_count)
        used, prev = 0.0, None
        for t in self.times(interval, start, end):
            if prev is not None:
                used += _at(cores, prev - self.t0) * (t - prev)
            prev = t
            cpu = math.floor(used / tick) * tick if tick else used
            w.write({"t": round(t, 6), "pid": pid, "ppid": ppid, "name": "python",
                     "cpu_user_s": round(cpu, 6), "cpu_system_s": 0.0,
                     "rss": int(_at(rss, t - self.t0)), "threads": 4, "fds": 10,
                     "ctx_voluntary": 0, "ctx_involuntary": 0})
        if exit_at is not None:
            w.write({"t": exit_at, "pid": pid, "event": "exit", "returncode": None})
        w.flush()

    def thread_states(self, pid: int, tids: dict[int, Sequence[int]], *, start: float | None = None,
                      end: float | None = None, error: str | None = None,
                      sched: dict[int, Sequence[float]] | None = None,
                      cores: dict | None = None, throttled: float | None = None) -> None:
        """``threads.jsonl``: every 0.5 s, each thread's samples ``(running, futex, blocked)``
        (per half second, 25 in all in the sampler). ``error`` writes the sampler's
        error record instead. ``sched`` (schema 2): per thread ``(on_cpu, runq)`` as shares
        of the time, written as seconds per record; ``cores``: the process's usable cores
        (:func:`pinkclinic.collect.cores.usable_cores`); ``throttled`` (schema 3): the share
        of its cgroup quota's 100 ms periods that ran out, as the running counters."""
        if getattr(self, "_threads", None) is None:
            path = self.rec.register("threads", "threads.jsonl", format="jsonl")
            self._threads = JsonlWriter(path, "threads", 1, 1000, interval_ms=20,
                                        states=["running", "futex", "blocked"],
                                        source="/proc/PID/task/TID/syscall")
        if error is not None:
            self._threads.write({"t": self.t0, "error": error})
        else:
            for i, t in enumerate(self.times(0.5, start, end)[:-1]):
                rec = {"t": t, "dur_s": 0.5, "pid": pid, "ticks": 25,
                       "tids": {str(k): list(v) for k, v in tids.items()}}
                if sched is not None:
                    rec["sched"] = {str(k): [0.5 * v[0], 0.5 * v[1]] for k, v in sched.items()}
                if cores is not None:
                    rec["cores"] = cores
                if throttled is not None:
                    rec["throttle"] = {"periods": 5 * (i + 1),
                                       "throttled_periods": round(5 * (i + 1) * throttled),
                                       "throttled_s": round(0.05 * 5 * (i + 1) * throttled, 3)}
                self._threads.write(rec)
        self._threads.flush()

    # -- probe-PID.jsonl --------------------------------------------------------------
    def probe(self, pid: int = 100, *, ppid: int = 1, features: Sequence[str] = (
            "loop", "gc", "tasks", "threads", "listen")) -> Probe:
        """The probe's stream of process ``pid`` (its header written now)."""
        w = JsonlWriter(self.rec.path / f"probe-{pid}.jsonl", "probe", 1, 1000, t=self.t0 - 1.0,
                        pid=pid, ppid=ppid, forked=False, python="3.11.7",
                        implementation="cpython", executable="/usr/bin/python3",
                        argv=["python", "app.py"], features=list(features), options={})
        return Probe(self, pid, w)

    # -- load.jsonl, load-result.json -------------------------------------------------
    def load(self, rps: Value = 100, *, p50_ms: Value = 2.0, p99_ms: Value | None = None,
             status: dict[str, int] | None = None, errors: int = 0, timeouts: int = 0,
             start: float | None = None, end: float | None = None, result: bool = True) -> None:
        """One ``load.jsonl`` line per second of ``[t0, t1]``: ``rps`` answers (a number or
        a function of the second's offset from ``t0``), all with ``status`` (default:
        ``{"200": rps}``), ``errors`` failed connections a second; and a
        ``load-result.json`` with the mean rate and latency."""
        w = self.rec.open_stream("load", url="http://127.0.0.1:8000/", spec={})
        a = self.t0 if start is None else start
        b = self.t1 if end is None else end
        rows = []
        t = a
        while t < b - 1e-9:
            dur = min(1.0, b - t)
            n = round(_at(rps, t - self.t0) * dur)
            p50 = _at(p50_ms, t - self.t0)
            row = {"t": t, "dur_s": dur, "requests": n, "bytes": 100 * n,
                   "errors": errors + timeouts, "timeouts": timeouts,
                   "status": dict(status) if status is not None else {"200": n},
                   "p50_ms": p50, "p99_ms": _at(p99_ms, t - self.t0) if p99_ms is not None else 3 * p50,
                   "max_ms": 4 * p50}
            w.write(row)
            rows.append(row)
            t += dur
        w.close()
        if result and rows:
            total = sum(r["requests"] for r in rows)
            write_json(self.rec.file("load-result.json"), {
                "schema_version": 1, "requests": {"total": total, "average": total / (b - a)},
                "latency": {"p50": rows[len(rows) // 2]["p50_ms"], "p99": max(r["p99_ms"] for r in rows)},
                "errors": errors * len(rows), "timeouts": timeouts * len(rows)})
            self.rec.register("load_result", "load-result.json", format="json")

    # -- routes.json ----------------------------------------------------------------
    def routes(self, requests: Sequence[tuple], method: str = "GET") -> dict:
        """``routes.json`` through its real writer: ``requests`` are ``(path, sent, dur_ms,
        status)`` (``sent`` epoch seconds; status 0 for a failed request), one ``--requests``
        step per distinct path. Returns the document written."""
        from array import array
        from types import SimpleNamespace

        from pinkclinic.load.core.spec import RequestTemplate
        from pinkclinic.session.routes_file import routes_doc, write_routes

        paths = list(dict.fromkeys(r[0] for r in requests))
        trace = array("q")
        for path, sent, dur_ms, status in requests:
            us = round(sent * 1e6)
            trace.extend((paths.index(path), us, us + round(dur_ms * 1000), status))
        result = SimpleNamespace(trace=trace, start=self.t0, trace_dropped=0)
        templates = [RequestTemplate(method, p) for p in paths]
        write_routes(self.rec, result, templates, offset_us=0.0)
        return routes_doc(result, templates, offset_us=0.0)

    # -- pyspy.speedscope.json --------------------------------------------------------
    def pyspy(self, *threads: dict, rate_hz: float = 100, start: float | None = None,
              end: float | None = None) -> Path:
        """``pyspy.speedscope.json`` as py-spy writes it with ``--idle --subprocesses``:
        every thread (:func:`spy_thread`) sampled ``rate_hz`` times a second over
        ``[start, end]``, its stacks interleaved in time by their shares. A thread with
        ``born`` set starts then (fewer samples, placed at the end, as py-spy's are)."""
        a, b = self.span(start, end)
        total = round((b - a) * rate_hz)
        frames: list[dict] = []
        index: dict[tuple, int] = {}

        def idx(fr) -> int:
            key = (str(fr[0]), str(fr[1]), int(fr[2]))
            if key not in index:
                index[key] = len(frames)
                frames.append({"name": key[0], "file": key[1], "line": key[2]})
            return index[key]

        profiles = []
        for th in threads:
            n = total if th.get("born") is None else round((b - th["born"]) * rate_hz)
            ids = [[idx(fr) for fr in stack] for stack, _ in th["stacks"]]  # once a stack
            samples = [ids[k] for k in interleave_indices([sh for _, sh in th["stacks"]], n)]
            profiles.append({"type": "sampled", "unit": "none", "startValue": 0, "endValue": n,
                             "name": f'Process {th["pid"]} Thread {th["tid"]} "{th["name"]}"',
                             "samples": samples, "weights": [1] * n})
        path = self.rec.register("pyspy", "pyspy.speedscope.json", format="speedscope",
                                 rate_hz=rate_hz, started=a, pid=100, subprocesses=True,
                                 native=False, idle=True, nonblocking=False)
        write_json(path, {"$schema": "https://www.speedscope.app/file-format-schema.json",
                          "profiles": profiles, "shared": {"frames": frames},
                          "activeProfileIndex": 0, "exporter": "py-spy@0.3.14",
                          "name": "synthetic"}, indent=None)
        return path


def spy_thread(pid: int, tid: int, stacks: Sequence[tuple[list, float]], *,
               name: str = "MainThread", born: float | None = None) -> dict:
    """A thread for :meth:`Synth.pyspy`: ``stacks`` are ``(stack, share)`` pairs, the shares
    of its samples (normalised)."""
    return {"pid": pid, "tid": tid, "name": name, "stacks": list(stacks), "born": born}


def interleave(stacks: Sequence[tuple[list, float]], n: int) -> list[list]:
    """``n`` samples of ``stacks`` in their shares, spread evenly in time (each prefix of
    the sequence holds each stack in its share, to within one sample)."""
    return [stacks[k][0] for k in interleave_indices([share for _, share in stacks], n)]


def interleave_indices(shares: Sequence[float], n: int) -> list[int]:
    """:func:`interleave`'s order as indices into ``shares``."""
    total = sum(shares) or 1.0
    shares = [share / total for share in shares]
    given = [0] * len(shares)
    out = []
    for i in range(n):
        k = max(range(len(shares)), key=lambda j: (shares[j] * (i + 1) - given[j], -j))
        given[k] += 1
        out.append(k)
    return out


class Probe:
    """One process's probe stream; every method writes records as the probe does."""

    def __init__(self, synth: Synth, pid: int, writer: JsonlWriter):
        self.s, self.pid, self.w = synth, pid, writer

    def record(self, type: str, **fields: Any) -> None:
        """Any record, as written (``t`` and the rest as given)."""
        self.w.write({"type": type, **fields})
        self.w.flush()

    def loop(self, thread_id: int | None = None, *, t: float | None = None,
             loop: str = "asyncio") -> None:
        """A loop ``start`` record (the probe saw an event loop run)."""
        self.record("loop", t=self.s.t0 - 0.9 if t is None else t, thread_id=thread_id or self.pid,
                    event="start", thread_name="MainThread", loop=loop,
                    loop_class="_UnixSelectorEventLoop")

    def lags(self, *, p50_ms: Value = 1.0, max_ms: Value | None = None, n: int = 10,
             thread_id: int | None = None, every: float = 0.1, start: float | None = None,
             end: float | None = None) -> None:
        """A ``lag`` record every ``every`` seconds (``p50_ms`` a number or a function of
        the time since ``t0``), ``n`` ticks each."""
        for t in self.s.times(every, start, end)[1:]:
            p50 = _at(p50_ms, t - self.s.t0)
            self.w.write({"type": "lag", "t": t, "thread_id": thread_id or self.pid, "n": n,
                          "p50_ms": p50, "max_ms": _at(max_ms, t - self.s.t0) if max_ms is not None
                          else 2 * p50, "interval_ms": every * 1000})
        self.w.flush()

    def block(self, *, t: float, dur_ms: float, stack: list | None = None,
              on_cpu: bool | None = True, thread_id: int | None = None) -> None:
        """A stall of the loop thread caught at ``t`` (``stack`` innermost last)."""
        rec = {"type": "block", "t": t, "dur_ms": dur_ms, "thread_id": thread_id or self.pid,
               "stack": on_loop(frame("handler")) if stack is None else stack, "on_cpu": on_cpu,
               "cpu_ms": dur_ms if on_cpu else 0.0}
        if on_cpu is not None:
            rec["wait_ms"] = 0.0
        self.record(**rec)

    def blocks(self, *, share: float, dur_ms: float = 100.0, stack: list | None = None,
               on_cpu: bool | None = True, thread_id: int | None = None,
               start: float | None = None, end: float | None = None) -> None:
        """Stalls of at most ``dur_ms`` spread evenly over ``[start, end]`` (the analysed window,
        ``[w0, w1]``, by default), adding up to ``share`` of it."""
        a = self.s.w0 if start is None else start
        b = self.s.w1 if end is None else end
        count = math.ceil(share * (b - a) * 1000 / dur_ms - 1e-9)
        dur_ms = share * (b - a) * 1000 / count if count else dur_ms  # exactly ``share``
        for i in range(count):
            self.block(t=a + (i + 0.5) * (b - a) / count - dur_ms / 2000, dur_ms=dur_ms,
                       stack=stack, on_cpu=on_cpu, thread_id=thread_id)

    def gc(self, *, t: float, dur_ms: float, gen: int = 2, stack: list | None = None,
           thread_id: int | None = None, collected: int = 100) -> None:
        """One ``gc`` pause record."""
        self.record("gc", t=t, dur_ms=dur_ms, gen=gen, collected=collected, uncollectable=0,
                    thread_id=thread_id or self.pid,
                    stack=on_loop(frame("allocate")) if stack is None else stack)

    def gcs(self, *, share: float, dur_ms: float = 20.0, stack: list | None = None,
            thread_id: int | None = None, start: float | None = None,
            end: float | None = None) -> None:
        """GC pauses of at most ``dur_ms`` spread evenly over ``[start, end]`` (the analysed window,
        ``[w0, w1]``, by default), adding up to ``share`` of it."""
        a = self.s.w0 if start is None else start
        b = self.s.w1 if end is None else end
        count = math.ceil(share * (b - a) * 1000 / dur_ms - 1e-9)
        dur_ms = share * (b - a) * 1000 / count if count else dur_ms  # exactly ``share``
        for i in range(count):
            self.gc(t=a + (i + 0.5) * (b - a) / count, dur_ms=dur_ms, stack=stack,
                    thread_id=thread_id)

    def tasks(self, n: int = 10, *, every: float = 0.5, thread_id: int | None = None) -> None:
        for t in self.s.times(every):
            self.w.write({"type": "tasks", "t": t, "thread_id": thread_id or self.pid, "n": n})
        self.w.flush()

    def waits(self, stacks: Sequence[tuple[list, int]], *, every: float = 0.5,
              thread_id: int | None = None) -> None:
        """``waits`` records: where suspended tasks wait (stacks outermost first, counts)."""
        for t in self.s.times(every):
            self.w.write({"type": "waits", "t": t, "thread_id": thread_id or self.pid,
                          "n": sum(c for _, c in stacks), "stacks": [[s, c] for s, c in stacks]})
        self.w.flush()

    def exit(self, t: float | None = None) -> None:
        self.record("exit", t=self.s.t1 + 0.6 if t is None else t)
