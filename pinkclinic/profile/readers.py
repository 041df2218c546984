"""Readers: py-spy's speedscope file, pyinstrument segments, collapsed stacks.

Each ``read_*`` feeds a :class:`ProfileBuilder`, so one profile can combine
several sources (e.g. every ``pyinstrument-<PID>.jsonl`` of a recording).

py-spy (``--idle --threads --full-filenames [--subprocesses]``) puts pseudo
frames at the root of every stack: ``process PID:"cmdline"`` (outermost first,
the last one is the sampled process) and ``thread (TID): Name`` (the name can
be missing early on, so threads are keyed on the TID). They become the
thread's identity, not frames.
"""

from __future__ import annotations

import os
import re

from pinkclinic.jsonio import read_jsonl, read_jsonl_header
from pinkclinic.profile.builder import ProfileBuilder
from pinkclinic.profile.idle import AWAIT_FRAME, IDLE_FRAME
from pinkclinic.profile.speedscope_in import read_speedscope, read_speedscope_ordered

_THREAD = re.compile(r"^thread \((0x[0-9a-fA-F]+|\d+)\)(?::\s?(.*))?$", re.S)
_PROCESS = re.compile(r'^process (\d+):"(.*)"$', re.S)
PROFILE_NAME = re.compile(r'^(?:Process (\d+) )?Thread (\d+)(?: "(.*)")?$', re.S)
_FRAME_TEXT = re.compile(r"^(.*) \(([^()]*?)(?::(\d+))?\)$", re.S)


def _int(text: str | None) -> int | None:
    if text is None:
        return None
    return int(text, 16) if text.startswith("0x") else int(text)


def split_pseudo(names: list[str]) -> tuple[int, dict]:
    """How many leading frames are process/thread pseudo frames, and what they say."""
    info: dict = {}
    n = 0
    for name in names:
        m = _PROCESS.match(name)
        if m:
            if "pid" in info:
                info["parent"] = info["pid"]
            info["pid"], info["process"] = int(m.group(1)), m.group(2)
            n += 1
            continue
        m = _THREAD.match(name)
        if m:
            info["tid"], info["name"] = _int(m.group(1)), (m.group(2) or "").strip()
            n += 1
            continue
        break
    return n, info


def read_pyspy(path: str | os.PathLike, b: ProfileBuilder, *, pid: int | None = None,
               process: str = "", order: bool = False) -> int:
    """Add py-spy's speedscope file to ``b``; returns the number of samples read.

    Weights become sample counts (py-spy weighs each sample 1/rate seconds).
    ``pid`` and ``process`` (its command line) name the process when py-spy ran
    without ``--subprocesses``. ``order`` keeps the samples' time order (for exports).
    With ``--subprocesses`` the process pseudo frames before the sampled one are its
    ancestors: ``b.meta["process_parents"]`` maps each PID (as text) to its parent's.
    """
    if order:
        doc, profiles, orders = read_speedscope_ordered(path)
    else:
        (doc, profiles), orders = read_speedscope(path), None
    shared = doc.get("shared", {}).get("frames", [])
    raw = [b.frame(f.get("name", "?"), f.get("file") or "", f.get("line") or 0) for f in shared]
    names = [str(f.get("name", "")) if not f.get("file") else "" for f in shared]
    total = 0
    for pi, (prof, stacks) in enumerate(zip(doc.get("profiles", []), profiles, strict=True)):
        m = PROFILE_NAME.match(str(prof.get("name", "")))
        default = {"pid": _int(m.group(1)) if m and m.group(1) else pid,
                   "tid": _int(m.group(2)) if m else None,
                   "name": (m.group(3) or "") if m else str(prof.get("name", "")),
                   "process": process}
        tcache: dict[tuple, int] = {}
        keys = []
        for stack, (_, count) in stacks.items():
            n, info = split_pseudo([names[i] for i in stack[:4]])
            key = stack[:n]
            t = tcache.get(key)
            if t is None:
                d = {**default, **{k: v for k, v in info.items() if v not in (None, "")}}
                t = tcache[key] = b.thread(d.get("pid"), d.get("tid"), d.get("name", ""),
                                           d.get("process", ""))
                if info.get("parent") is not None and d.get("pid") is not None:
                    parents = b.meta.setdefault("process_parents", {})
                    parents[str(d["pid"])] = info["parent"]
            frames = tuple(raw[i] for i in stack[n:])
            b.add(t, frames, count, count)
            if orders is not None:
                keys.append((t, frames))
            total += count
        if orders is not None:
            b.add_order(keys, orders[pi])
    return total


def _in_window(t0: float | None, t1: float | None, window: tuple[float, float]) -> bool:
    """At least half of the segment, or half of the window, is shared by both."""
    if t0 is None or t1 is None:
        return True
    shared = min(t1, window[1]) - max(t0, window[0])
    return shared > 0 and 2 * shared >= min(t1 - t0, window[1] - window[0])


def read_pyinstrument(path: str | os.PathLike, b: ProfileBuilder,
                      window: tuple[float, float] | None = None, *, process: str = "") -> float:
    """Add one ``pyinstrument-<PID>.jsonl`` (weights in seconds); returns the seconds read.

    ``window`` (epoch seconds), e.g. the load, keeps only the segments that lie mostly
    inside it, so start-up imports do not crowd the profile of the load (the probe cuts
    a segment every ``pyinstrument_segment_s``). ``process`` is the command line.

    pyinstrument's root pseudo frame (``MainThread``, file ``<thread>``, its "line"
    the thread ident) is the thread, not a frame: it is dropped. ``await`` and ``idle`` time
    get a synthetic leaf (``<await>``, ``<idle>``) in the idle area, so ``--idle``
    off shows CPU time and on shows the wall-clock view.
    """
    header = read_jsonl_header(path) or {}
    pid, tid = header.get("pid"), header.get("thread_id")
    t = b.thread(pid, tid, "MainThread" if tid is not None else "", process)
    extra = {"await": b.frame(*AWAIT_FRAME), "idle": b.frame(*IDLE_FRAME)}
    total = 0.0
    for rec in read_jsonl(path):
        if window is not None and not _in_window(rec.get("t0"), rec.get("t1"), window):
            continue
        for st in rec.get("stacks") or []:
            raw = st.get("frames") or []
            if raw and len(raw[0]) > 1 and raw[0][1] == "<thread>":
                raw = raw[1:]
            frames = tuple(b.frame(fr[0], fr[1] if len(fr) > 1 else "",
                                   fr[2] if len(fr) > 2 else 0) for fr in raw)
            kind = st.get("kind", "cpu")
            if kind in extra:
                frames = (*frames, extra[kind])
            secs = float(st.get("seconds") or 0)
            b.add(t, frames, secs, 1)
            total += secs
    return total


def parse_frame_text(text: str) -> tuple[str, str, int]:
    """``func (file:line)`` as py-spy and inferno write it -> (func, file, line)."""
    m = _FRAME_TEXT.match(text)
    if not m:
        return text, "", 0
    return m.group(1), m.group(2), int(m.group(3) or 0)


def read_collapsed(lines, b: ProfileBuilder, *, pid: int | None = None) -> float:
    """Add collapsed stacks (``a;b;c 42`` per line, flamegraph.pl / inferno / py-spy raw)."""
    cache: dict[str, int] = {}
    total = 0.0
    for line in lines:
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        stack, _, num = line.rpartition(" ")
        try:
            weight = int(num)
        except ValueError:
            weight = float(num)
        texts = stack.split(";") if stack else []
        n, info = split_pseudo(texts[:4])
        t = b.thread(info.get("pid", pid), info.get("tid"), info.get("name", ""),
                     info.get("process", ""))
        frames = []
        for text in texts[n:]:
            fid = cache.get(text)
            if fid is None:
                fid = cache[text] = b.frame(*parse_frame_text(text))
            frames.append(fid)
        b.add(t, tuple(frames), weight, weight if isinstance(weight, int) else 1)
        total += weight
    return total
