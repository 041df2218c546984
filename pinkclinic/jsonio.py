"""Reproducible JSON and crash-tolerant JSON-lines streams.

Every file pinkclinic saves carries a ``schema_version``:

* ``*.json`` files have it as a top-level key;
* ``*.jsonl`` streams start with a header line
  ``{"schema_version": N, "stream": "<name>", ...}``.

Streams are append-only and flushed as they go, so a crash or a ``kill -9``
leaves every complete line readable; :func:`read_jsonl` skips a torn last
line instead of failing.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

try:  # about twice as fast on the probe's stack-laden records; the stdlib's as a fallback
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover
    _fast_loads = None


def dumps(obj: Any, *, indent: int | None = None) -> str:
    """JSON with sorted keys, so equal data gives byte-equal files."""
    return json.dumps(obj, sort_keys=True, indent=indent, ensure_ascii=False, allow_nan=False,
                      separators=(",", ": ") if indent else (",", ":"))


def write_json(path: str | os.PathLike, obj: Any, *, indent: int | None = 1) -> None:
    """Write ``obj`` atomically (temp file + rename): readers never see half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(dumps(obj, indent=indent) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: str | os.PathLike) -> Any:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class JsonlWriter:
    """An append-only JSON-lines stream with a schema header.

    Thread-safe. ``flush_every`` lines are buffered at most; ``flush()`` and
    ``close()`` push them to the OS, which is enough to survive our own death.
    """

    def __init__(self, path: str | os.PathLike, stream: str, schema_version: int = 1,
                 flush_every: int = 1, **header: Any):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._flush_every = max(1, flush_every)
        self._pending = 0
        new = not self.path.exists() or self.path.stat().st_size == 0
        self._f = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open
        if new:
            self.write({"schema_version": schema_version, "stream": stream, **header})
            self.flush()

    def write(self, record: dict) -> None:
        line = dumps(record) + "\n"
        with self._lock:
            if self._f.closed:
                return
            self._f.write(line)
            self._pending += 1
            if self._pending >= self._flush_every:
                self._f.flush()
                self._pending = 0

    def flush(self) -> None:
        with self._lock:
            if not self._f.closed:
                self._f.flush()
                self._pending = 0

    def close(self) -> None:
        with self._lock:
            if not self._f.closed:
                self._f.flush()
                self._f.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _loads(line: str) -> Any:
    """``json.loads``, by orjson when it can (it refuses NaN and huge integers, which the
    stdlib's json writes and reads: those lines go to the stdlib)."""
    if _fast_loads is not None:
        try:
            return _fast_loads(line)
        except ValueError:
            pass
    return json.loads(line)


def read_jsonl(path: str | os.PathLike, *, with_header: bool = False) -> Iterator[dict]:
    """Yield the records of a stream, skipping the header and any torn line.

    A line that does not parse is only tolerated at the end of the file (a
    write cut short by a crash); one in the middle raises ``ValueError``.
    """
    with open(path, encoding="utf-8", errors="replace") as f:
        bad: str | None = None
        first = True
        for raw in f:
            if bad is not None:
                raise ValueError(f"{path}: malformed line in the middle of the stream: {bad[:80]!r}")
            line = raw.strip()
            if not line:
                continue
            try:
                rec = _loads(line)
            except json.JSONDecodeError:
                bad = line
                continue
            if first:
                first = False
                if isinstance(rec, dict) and "schema_version" in rec and "stream" in rec:
                    if with_header:
                        yield rec
                    continue
            yield rec


def read_jsonl_header(path: str | os.PathLike) -> dict | None:
    """The header line of a stream, or ``None`` if the file is empty or headless."""
    with open(path, encoding="utf-8", errors="replace") as f:
        line = f.readline().strip()
    try:
        rec = json.loads(line) if line else None
    except json.JSONDecodeError:
        return None
    if isinstance(rec, dict) and "schema_version" in rec and "stream" in rec:
        return rec
    return None
