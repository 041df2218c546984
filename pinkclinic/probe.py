"""The in-process probe seen from outside: its files in a recording, and its own code
and threads in stack samples.

The probe (``pinkclinic/bootstrap``) runs inside the target and imports nothing of
pinkclinic; this module holds what the rest of pinkclinic knows of it:

* ``probe-<PID>.jsonl``, one per process the probe ran in (docs/recording-format.md,
  "probe-PID.jsonl"). :func:`read_probe_file` is the one reader of these streams
  (through :func:`pinkclinic.jsonio.read_jsonl`: a line torn by a kill is skipped);
  :func:`probe_headers` and :func:`probe_records` read every one of a folder.
* The probe's own code (:func:`is_probe_file`) and threads (:data:`THREAD_PREFIX`):
  they are not the target's work, so the analyses and flame graphs leave them out.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from pinkclinic.jsonio import read_jsonl, read_jsonl_header

_FILE = re.compile(r"^probe-\d+\.jsonl$")
# The probe names its threads pinkclinic-probe-<what> (THREAD_PREFIX in
# bootstrap/pinkclinic_probe/_core.py, which cannot import this module).
THREAD_PREFIX = "pinkclinic-probe"
# The probe's files, wherever pinkclinic is installed: the bootstrap folder (its
# sitecustomize.py and the pinkclinic_probe package inside it).
_CODE = re.compile(r"(?:^|/)(?:pinkclinic/bootstrap/|pinkclinic_probe(?:/|\.py$))")


def probe_file(pid: int, suffix: str = "jsonl") -> str:
    """The name of a probe's file in a recording: ``probe-<PID>.jsonl`` (its stream), or the
    attach handshake's ``.injected`` and ``.detach``."""
    return f"probe-{pid}.{suffix}"


def is_probe_file(path: str | os.PathLike | None) -> bool:
    """A source file of the probe (a frame's file name, either slash)."""
    return bool(path) and _CODE.search(str(path).replace("\\", "/")) is not None


# The probe's pass-through wrappers (feature routes times each request around the app):
# the target's own code runs beneath their frames, so a stack drops those frames, where
# it is cut at any other frame of the probe (the probe's own work).
_WRAPPER = re.compile(r"(?:^|/)pinkclinic_probe/_app_wrap\.py$")


def is_probe_wrapper(path: str | os.PathLike | None) -> bool:
    """A frame of the probe's request wrappers: dropped from a stack, not cut at."""
    return bool(path) and _WRAPPER.search(str(path).replace("\\", "/")) is not None


def without_wrappers(frames: list) -> list:
    """``frames`` (``(function, file, ...)``) less the probe's request wrappers."""
    return [f for f in frames if not is_probe_wrapper(f[1])]


def probe_paths(folder: str | os.PathLike) -> list[Path]:
    """Every ``probe-<PID>.jsonl`` in ``folder``, in name order."""
    return sorted(p for p in Path(folder).glob("probe-*.jsonl") if _FILE.match(p.name))


def _is_header(rec: Any) -> bool:
    return isinstance(rec, dict) and "stream" in rec and "schema_version" in rec \
        and "type" not in rec


def read_probe_file(path: str | os.PathLike) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(header, records) of one probe stream. The header is the first line (``{}`` if the
    file has none); a process that exec'd another Python under the same PID adds its own
    header line later, which is skipped. Each record carries the header's ``pid``.
    Raises ``OSError``, or ``ValueError`` for a damaged line that is not the last."""
    header = read_jsonl_header(path) or {}
    pid = header.get("pid")
    records = []
    stacks: dict[int, list] = {}
    for r in read_jsonl(path):
        if isinstance(r, dict) and not _is_header(r):
            r.setdefault("pid", pid)
            if r.get("type") == "waits" and r.get("v") == 3:
                _resolve_stacks(r, stacks)
            records.append(r)
    return header, records


def _resolve_stacks(rec: dict[str, Any], stacks: dict[int, list]) -> None:
    """A v3 ``waits`` record in the v2 shape: each stack id replaced by the stack its
    stream defined (``defs``, in this record or an earlier one). One list per id, shared
    by every record that has it. A group whose id was never defined (its record lost)
    goes to ``other``, with its leaf."""
    try:
        for sid, stack in rec.pop("defs", None) or ():
            stacks[int(sid)] = stack
        out, leaves, other = [], [], float(rec.get("other") or 0.0)
        for (sid, n), leaf in zip(rec.get("stacks") or (), rec.get("leaves") or ()):
            stack = stacks.get(sid) if isinstance(sid, int) else None
            if stack is None:
                other += float(n)
                continue
            out.append([stack, n])
            leaves.append(leaf)
    except (TypeError, ValueError):
        out, leaves, other = [], [], rec.get("other")
    rec["stacks"], rec["leaves"], rec["other"] = out, leaves, other


def probe_headers(folder: str | os.PathLike) -> dict[int, dict[str, Any]]:
    """pid -> the header of its probe stream (forked, ppid, argv, features...)."""
    out = {}
    for path in probe_paths(folder):
        header = read_jsonl_header(path)
        if header and "pid" in header:
            out[int(header["pid"])] = header
    return out


def probe_records(folder: str | os.PathLike) -> dict[str, list[dict[str, Any]]]:
    """type -> the records of every process's probe stream, each with its ``pid``, in
    time order."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in probe_paths(folder):
        for r in read_probe_file(path)[1]:
            out[r.get("type", "?")].append(r)
    for records in out.values():
        records.sort(key=lambda r: r.get("t", 0.0))
    return dict(out)
