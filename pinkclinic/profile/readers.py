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
from pinkclinic.profile import idle as _idle
from pinkclinic.profile.model import ProfileBuilder
from pinkclinic.profile.speedscope_in import read_speedscope

_THREAD = re.compile(r"^thread \((0x[0-9a-fA-F]+|\d+)\)(?::\s?(.*))?$", re.S)
_PROCESS = re.compile(r'^process (\d+):"(.*)"$', re.S)
_PROFILE_NAME = re.compile(r'^(?:Process (\d+) )?Thread (\d+)(?: "(.*)")?$', re.S)
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
               process: str = "") -> int:
    """Add py-spy's speedscope file to ``b``; returns the number of samples read.

    Weights become sample counts (py-spy weighs each sample 1/rate seconds).
    ``pid`` and ``process`` (its command line) name the process when py-spy ran
    without ``--subprocesses``.
    """
    doc, profiles = read_speedscope(path)
    shared = doc.get("shared", {}).get("frames", [])
    raw = [b.frame(f.get("name", "?"), f.get("file") or "", f.get("line") or 0) for f in shared]
    names = [str(f.get("name", "")) if not f.get("file") else "" for f in shared]
    total = 0
    for prof, stacks in zip(doc.get("profiles", []), profiles, strict=True):
        m = _PROFILE_NAME.match(str(prof.get("name", "")))
        default = {"pid": _int(m.group(1)) if m and m.group(1) else pid,
                   "tid": _int(m.group(2)) if m else None,
                   "name": (m.group(3) or "") if m else str(prof.get("name", "")),
                   "process": process}
        tcache: dict[tuple, int] = {}
        for stack, (_, count) in stacks.items():
            n, info = split_pseudo([names[i] for i in stack[:4]])
            key = stack[:n]
            t = tcache.get(key)
            if t is None:
                d = {**default, **{k: v for k, v in info.items() if v not in (None, "")}}
                t = tcache[key] = b.thread(d.get("pid"), d.get("tid"), d.get("name", ""),
                                           d.get("process", ""))
            b.add(t, tuple(raw[i] for i in stack[n:]), count, count)
            total += count
    return total


def read_pyinstrument(path: str | os.PathLike, b: ProfileBuilder,
                      window: tuple[float, float] | None = None) -> float:
    """Add one ``pyinstrument-<PID>.jsonl`` (weights in seconds); returns the seconds read.

    ``window`` (epoch seconds) keeps only segments that overlap it, e.g. the time the
    server listened, so start-up imports do not crowd the profile of the load.

    ``await`` and ``idle`` time get a synthetic leaf (``<await>``, ``<idle>``) in the
    idle area, so ``--idle`` off shows CPU time and on shows the wall-clock view.
    """
    header = read_jsonl_header(path) or {}
    pid, tid = header.get("pid"), header.get("thread_id")
    t = b.thread(pid, tid, "MainThread" if tid is not None else "", "")
    extra = {"await": b.frame(*_idle.AWAIT_FRAME), "idle": b.frame(*_idle.IDLE_FRAME)}
    total = 0.0
    for rec in read_jsonl(path):
        if window is not None and (rec.get("t1", window[0]) < window[0]
                                   or rec.get("t0", window[1]) > window[1]):
            continue
        for st in rec.get("stacks") or []:
            frames = tuple(b.frame(fr[0], fr[1] if len(fr) > 1 else "",
                                   fr[2] if len(fr) > 2 else 0)
                           for fr in st.get("frames") or [])
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
