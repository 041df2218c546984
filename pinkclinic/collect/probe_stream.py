"""Read what the in-process probe wrote: ``probe-<PID>.jsonl`` and ``pyinstrument-<PID>.jsonl``.

``load(recording_or_dir)`` returns ``{pid: ProbeProcess}``; each process holds its
loop threads (``{thread_id: LoopThread}`` with lag, block and task series), GC pauses,
thread samples, listeners and errors, every series sorted by time. Records are the
dicts of docs/recording-format.md, unchanged.

Reading never fails on a damaged stream: a torn last line (the target was killed
mid-write) or any other unparsable line is skipped and counted in ``bad_lines``; a
missing directory or file gives an empty result. A file may hold several header lines
(a process that exec'd another Python under the same PID): the first header describes
the process, all are kept in ``headers``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

READ_VERSION = 1
_PROBE_FILE = re.compile(r"^probe-(\d+)\.jsonl$")
_PYI_FILE = re.compile(r"^pyinstrument-(\d+)\.jsonl$")


@dataclass
class LoopThread:
    thread_id: int
    loop: str | None = None  # "asyncio" | "uvloop"
    thread_name: str | None = None
    runs: list[list[float | None]] = field(default_factory=list)  # [start, stop|None]
    lag: list[dict] = field(default_factory=list)
    blocks: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)


@dataclass
class ProbeProcess:
    pid: int
    path: Path
    headers: list[dict] = field(default_factory=list)
    loops: dict[int, LoopThread] = field(default_factory=dict)
    gc: list[dict] = field(default_factory=list)  # pauses with their own record
    gcsum: list[dict] = field(default_factory=list)  # short pauses, summed per interval
    threads: list[dict] = field(default_factory=list)
    listen: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    features: dict[str, dict] = field(default_factory=dict)  # latest "started" record,
    # plus "stopped_t" once the feature stopped at a normal exit
    exit_t: float | None = None  # the probe saw a normal interpreter exit
    last_t: float | None = None  # newest timestamp in the file
    bad_lines: int = 0

    @property
    def header(self) -> dict:
        return self.headers[0] if self.headers else {}

    @property
    def ppid(self) -> int | None:
        return self.header.get("ppid")

    def loop_thread(self, tid: int) -> LoopThread:
        lt = self.loops.get(tid)
        if lt is None:
            lt = self.loops[tid] = LoopThread(tid)
        return lt

    def gc_ms(self, t0: float = float("-inf"), t1: float = float("inf")) -> float:
        """Total GC pause time in [t0, t1]: own-record pauses plus summed intervals
        (a summed interval counts when its end falls in the window)."""
        own = sum(r.get("dur_ms", 0.0) for r in self.gc if t0 <= r.get("t", 0) <= t1)
        summed = sum(r.get("dur_ms", 0.0) for r in self.gcsum if t0 <= r.get("t", 0) <= t1)
        return own + summed


def _lines(path: Path):
    """Parsed JSON objects of a file, and the count of lines that did not parse."""
    bad = 0
    out: list[dict] = []
    try:
        with open(path, "rb") as f:
            for raw in f:
                raw = raw.strip()
                if not raw:
                    continue
                try:
                    obj = json.loads(raw)
                except ValueError:
                    bad += 1
                    continue
                if isinstance(obj, dict):
                    out.append(obj)
                else:
                    bad += 1
    except OSError:
        pass
    return out, bad


def _is_header(obj: dict) -> bool:
    return "stream" in obj and "schema_version" in obj and "type" not in obj


def read_probe_file(path: str | os.PathLike, pid: int | None = None) -> ProbeProcess | None:
    path = Path(path)
    if pid is None:
        m = _PROBE_FILE.match(path.name)
        if not m:
            return None
        pid = int(m.group(1))
    objs, bad = _lines(path)
    proc = ProbeProcess(pid=pid, path=path, bad_lines=bad)
    for obj in objs:
        if _is_header(obj):
            if obj.get("schema_version", 0) > READ_VERSION:
                proc.errors.append({"t": obj.get("t"), "feature": "reader", "message":
                                    f"schema_version {obj['schema_version']} is newer than "
                                    f"this reader ({READ_VERSION})"})
            proc.headers.append(obj)
            continue
        _add(proc, obj)
    for series in _all_series(proc):
        series.sort(key=lambda r: r.get("t", 0.0))
    return proc


def _add(proc: ProbeProcess, rec: dict[str, Any]) -> None:
    kind = rec.get("type")
    t = rec.get("t")
    if isinstance(t, (int, float)) and (proc.last_t is None or t > proc.last_t):
        proc.last_t = t
    tid = rec.get("thread_id")
    if kind == "lag":
        proc.loop_thread(tid).lag.append(rec)
    elif kind == "block":
        proc.loop_thread(tid).blocks.append(rec)
    elif kind == "tasks":
        proc.loop_thread(tid).tasks.append(rec)
    elif kind == "loop":
        lt = proc.loop_thread(tid)
        if rec.get("event") == "start":
            lt.loop = rec.get("loop") or lt.loop
            lt.thread_name = rec.get("thread_name") or lt.thread_name
            lt.runs.append([t, None])
        elif rec.get("event") == "stop":
            if lt.runs and lt.runs[-1][1] is None:
                lt.runs[-1][1] = t
            else:
                lt.runs.append([None, t])
    elif kind == "gc":
        proc.gc.append(rec)
    elif kind == "gcsum":
        proc.gcsum.append(rec)
    elif kind == "threads":
        proc.threads.append(rec)
    elif kind == "listen":
        proc.listen.append(rec)
    elif kind == "error":
        proc.errors.append(rec)
    elif kind == "feature":
        name = rec.get("feature", "?")
        if rec.get("state") == "stopped":
            proc.features.setdefault(name, {"feature": name})["stopped_t"] = t
        else:
            proc.features[name] = rec
    elif kind == "exit":
        proc.exit_t = t


def _all_series(proc: ProbeProcess):
    yield from (proc.gc, proc.gcsum, proc.threads, proc.listen, proc.errors)
    for lt in proc.loops.values():
        yield from (lt.lag, lt.blocks, lt.tasks)


def _folder(where: Any) -> Path:
    return Path(getattr(where, "path", where))


def load(where: Any) -> dict[int, ProbeProcess]:
    """Every ``probe-<PID>.jsonl`` of a recording (a ``Recording`` or its folder)."""
    folder = _folder(where)
    out: dict[int, ProbeProcess] = {}
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return out
    for name in names:
        m = _PROBE_FILE.match(name)
        if m:
            proc = read_probe_file(folder / name, int(m.group(1)))
            if proc is not None:
                out[proc.pid] = proc
    return out


def load_pyinstrument(where: Any) -> dict[int, dict]:
    """``{pid: {"header": {...}, "segments": [...], "bad_lines": n}}`` from
    ``pyinstrument-<PID>.jsonl`` files; segments sorted by ``t0``."""
    folder = _folder(where)
    out: dict[int, dict] = {}
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return out
    for name in names:
        m = _PYI_FILE.match(name)
        if not m:
            continue
        objs, bad = _lines(folder / name)
        headers = [o for o in objs if _is_header(o)]
        segments = sorted((o for o in objs if "stacks" in o), key=lambda o: o.get("t0", 0.0))
        out[int(m.group(1))] = {"header": headers[0] if headers else {}, "segments": segments,
                                "bad_lines": bad}
    return out
