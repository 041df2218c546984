"""Helpers for the probe tests: the environment a launcher would give the target,
other Python versions, a tiny HTTP client, waiting for records to appear, and what
each process's probe wrote, read by pinkclinic's own reader (:mod:`pinkclinic.probe`).

The environment is built here from the contract (docs/recording-format.md, "In-process
probe interface"), not from pinkclinic's launcher, so these tests pin the contract.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pinkclinic.analysis.loop import is_idle_stall
from pinkclinic.probe import probe_paths, read_probe_file
from tests.helpers import ROOT

BOOTSTRAP = ROOT / "pinkclinic" / "bootstrap"
TARGETS = Path(__file__).resolve().parent / "targets"
PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))


def probe_env(rec_dir: str | os.PathLike | None, features: list[str] | None = None,
              extra_path: list[str] = (), **options) -> dict[str, str]:
    """os.environ with the bootstrap first on PYTHONPATH and ``PINKCLINIC_PROBE`` set
    (unset when ``rec_dir`` is None). Options go into the JSON as they are."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(BOOTSTRAP), *map(str, extra_path)])
    env.pop("PINKCLINIC_PROBE", None)
    if rec_dir is not None:
        config = {"dir": str(rec_dir), **options}
        if features is not None:
            config["features"] = features
        env["PINKCLINIC_PROBE"] = json.dumps(config)
    return env


def python(version: str | None = None) -> str | None:
    """This interpreter, or pyenv's newest ``version`` (e.g. "3.12"), or None if absent."""
    if version is None:
        return sys.executable
    found = sorted(PYENV_ROOT.glob(f"versions/{version}.*/bin/python{version}"))
    return str(found[-1]) if found else None


def run(cmd: list[str], env: dict, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=kw.pop("cwd", TARGETS), **kw)


def get(port: int, path: str = "/", timeout: float = 10.0) -> bytes:
    """One HTTP/1.0 GET; returns the whole response."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                return b"".join(chunks)
            chunks.append(data)


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Poll ``predicate()`` until it returns something truthy; return that (or the last
    falsy value at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def queued_stall(block: dict, block_ms: float = 30) -> bool:
    """The loop thread spent the stall on the run queue: ``wait_ms`` at least ``dur_ms -
    block_ms``, so without the wait it would have been no stall (the probe's own rule for
    raising no alert)."""
    return block.get("wait_ms", 0) >= block["dur_ms"] - block_ms


def app_stalls(blocks: list[dict], block_ms: float = 30) -> list[dict]:
    """The ``block`` records of stalls the target made. Another process on a shared
    machine causes the others at any moment: the loop thread spent the stall on the
    run queue (:func:`queued_stall`), or it was caught in the loop's own wait, not
    getting the GIL back from a probe thread that lost its core while holding it
    (``is_idle_stall``: doctor leaves those out too; a CI run had a fourth 41-54 ms
    stall on three sleeps)."""
    return [b for b in blocks if not queued_stall(b, block_ms) and not is_idle_stall(b)]


@dataclass
class Probe:
    """What one process's probe wrote (``probe-<PID>.jsonl``)."""

    pid: int
    header: dict
    records: list[dict]

    def of(self, *kinds: str) -> list[dict]:
        """Its records of these types, in time order."""
        return sorted((r for r in self.records if r.get("type") in kinds),
                      key=lambda r: r.get("t", 0.0))

    @property
    def ppid(self) -> int | None:
        return self.header.get("ppid")

    @property
    def features(self) -> dict[str, dict]:
        """feature -> the record announcing it started."""
        return {r["feature"]: r for r in self.of("feature") if r.get("state") != "stopped"}

    @property
    def exit_t(self) -> float | None:
        """When the probe saw a normal interpreter exit (``None``: killed)."""
        return next((r["t"] for r in self.of("exit")), None)

    @property
    def ran_a_loop(self) -> bool:
        return bool(self.of("loop", "lag", "block", "tasks"))


def processes(rec_dir) -> dict[int, Probe]:
    """pid -> what its probe wrote, for every probe file in ``rec_dir``."""
    out = {}
    for path in probe_paths(rec_dir):
        header, recs = read_probe_file(path)
        pid = int(path.stem.split("-")[1])
        out[pid] = Probe(pid, header, recs)
    return out


def records(rec_dir, pid: int, kind: str) -> list[dict]:
    """The ``kind`` records of one process's probe file so far (none if it is not there)."""
    try:
        return [r for r in read_probe_file(Path(rec_dir) / f"probe-{pid}.jsonl")[1]
                if r.get("type") == kind]
    except OSError:
        return []


def innermost(stack: list, skip_files: tuple[str, ...] = ()) -> str | None:
    """The innermost function of a stack that is in the test targets."""
    for func, path, _line in reversed(stack):
        if str(TARGETS) in path and not path.endswith(skip_files):
            return func
    return None
