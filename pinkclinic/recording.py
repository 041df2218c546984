"""A Recording: one folder that holds everything a run collected.

Layout (see docs/recording-format.md for every stream)::

    NAME.pinkclinic-KIND/
        manifest.json        schema_version, kind, command, versions, timings, status, streams
        <stream>.jsonl       append-only streams, one per collector
        <external files>     e.g. py-spy's speedscope file, memray captures
        diagnosis.json       written by the analyzers (``pinkclinic report`` rewrites it)

The report sits beside the folder as ``NAME.pinkclinic-KIND.html``.
The manifest is rewritten atomically whenever it changes, so it is always
complete on disk; environment values are never stored in it.
"""

from __future__ import annotations

import functools
import os
import platform
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pinkclinic import __version__, redact
from pinkclinic.errors import PinkError, UsageError
from pinkclinic.jsonio import JsonlWriter, read_json, read_jsonl, write_json

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
HEAP_RESULT = "heap.json"  # what `heap` found: written by pinkclinic.heap, read by diff
KINDS = ("doctor", "flame", "heap", "waits")


def recording_dir(dest: str | os.PathLike, name: str, kind: str) -> Path:
    return Path(dest) / f"{name}.pinkclinic-{kind}"


def versions() -> dict[str, str]:
    """Versions of pinkclinic, Python and the tools it drives (missing ones are skipped)."""
    return dict(_versions())


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    """Looked up once a process: each ``metadata.version`` scans ``sys.path`` (~15 ms for
    the six), and a process that writes many recordings (bench, the tests) paid it each time."""
    from importlib import metadata

    out = {"pinkclinic": __version__, "python": platform.python_version(),
           "platform": f"{platform.system()}-{platform.machine()}"}
    for dist in ("py-spy", "memray", "pyinstrument", "psutil", "uvloop", "httptools"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return tuple(out.items())


class Recording:
    """A recording folder and its manifest."""

    def __init__(self, path: str | os.PathLike, manifest: dict[str, Any]):
        self.path = Path(path)
        self.manifest = manifest
        self._lock = threading.Lock()

    # -- creation and loading -------------------------------------------------
    @classmethod
    def create(cls, dest: str | os.PathLike, name: str, kind: str, *,
               command: list[str] | None = None, options: dict | None = None) -> Recording:
        if kind not in KINDS:
            raise ValueError(f"unknown recording kind {kind!r}")
        path = recording_dir(dest, name, kind)
        try:
            path.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            raise UsageError(f"{path} already exists; pick another --name or --dest") from None
        except OSError as e:
            raise UsageError(f"cannot create {path}: {e.strerror}") from None
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "kind": kind,
            "name": name,
            "command": redact.argv(command),
            "cwd": os.getcwd(),
            "argv": redact.argv(sys.argv),
            "options": redact.value(dict(options or {})),
            "versions": versions(),
            "timings": {"created": time.time()},
            "status": {"outcome": "running"},
            "streams": {},
        }
        rec = cls(path, manifest)
        rec.save()
        return rec

    @classmethod
    def open(cls, path: str | os.PathLike) -> Recording:
        path = Path(path)
        if path.is_file() and path.name == MANIFEST:
            path = path.parent
        mpath = path / MANIFEST
        if not path.is_dir():
            raise UsageError(f"{path} is not a directory (expected a *.pinkclinic-* recording)")
        if not mpath.is_file():
            raise UsageError(f"{path} is not a pinkclinic recording: it has no {MANIFEST}")
        try:
            manifest = read_json(mpath)
        except (OSError, ValueError) as e:
            raise PinkError(f"{mpath} cannot be read: {e}") from None
        version = manifest.get("schema_version") if isinstance(manifest, dict) else None
        if not isinstance(version, int):
            raise PinkError(f"{mpath} has no schema_version; it was not written by pinkclinic")
        if version > SCHEMA_VERSION:
            raise PinkError(f"{mpath} has schema_version {version}; this pinkclinic reads up to "
                            f"{SCHEMA_VERSION}. Upgrade pinkclinic to read it")
        return cls(path, manifest)

    # -- manifest ---------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.manifest["kind"]

    @property
    def report_path(self) -> Path:
        return self.path.with_name(self.path.name + ".html")

    def save(self) -> None:
        with self._lock:
            write_json(self.path / MANIFEST, self.manifest)

    def update(self, **fields: Any) -> None:
        """Merge top-level fields (dicts are merged one level deep) and save. Strings are
        redacted (:mod:`pinkclinic.redact`): a target's URL or command line may hold secrets."""
        with self._lock:
            for key, value in redact.value(fields).items():
                old = self.manifest.get(key)
                if isinstance(old, dict) and isinstance(value, dict):
                    old.update(value)
                else:
                    self.manifest[key] = value
        self.save()

    def mark(self, event: str, t: float | None = None) -> float:
        """Record the wall-clock time of a phase boundary (``load_start``, ``stopped``...)."""
        t = time.time() if t is None else t
        self.update(timings={event: t})
        return t

    # -- streams ----------------------------------------------------------------
    def target_said_something(self) -> bool:
        """True if the target wrote to its log (``target.log``): a failed run's folder is
        then worth keeping."""
        log = self.file("target.log")
        return log.exists() and log.stat().st_size > 0

    def file(self, name: str) -> Path:
        return self.path / name

    def register(self, stream: str, file: str, *, format: str, schema_version: int = 1,
                 **info: Any) -> Path:
        """List a file in the manifest (e.g. one written by py-spy or memray)."""
        self.update(streams={stream: {"file": file, "format": format,
                                      "schema_version": schema_version, **info}})
        return self.path / file

    def open_stream(self, stream: str, *, file: str | None = None, schema_version: int = 1,
                    flush_every: int = 1, **header: Any) -> JsonlWriter:
        """Create an append-only JSON-lines stream and list it in the manifest."""
        file = file or f"{stream}.jsonl"
        self.register(stream, file, format="jsonl", schema_version=schema_version)
        return JsonlWriter(self.path / file, stream, schema_version, flush_every, **header)

    def stream_file(self, stream: str) -> Path | None:
        """The path of a listed stream, or ``None`` if the run never produced it."""
        info = self.manifest.get("streams", {}).get(stream)
        if not info:
            return None
        p = self.path / info["file"]
        return p if p.exists() else None

    def read_stream(self, stream: str) -> list[dict[str, Any]]:
        """The records of a listed JSON-lines stream (``load``, ``processes``...), header
        left out; ``[]`` if the run never produced it."""
        path = self.stream_file(stream)
        return list(read_jsonl(path)) if path else []
