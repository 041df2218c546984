"""Helpers for the probe tests: the environment a launcher would give the target,
other Python versions, a tiny HTTP client, and waiting for records to appear.

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
from pathlib import Path

from pinkclinic.collect import probe_stream
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


def process(rec_dir, pid: int) -> probe_stream.ProbeProcess | None:
    return probe_stream.load(rec_dir).get(pid)


def records(rec_dir, pid: int, kind: str) -> list[dict]:
    path = Path(rec_dir) / f"probe-{pid}.jsonl"
    out = []
    try:
        for line in path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("type") == kind:
                out.append(rec)
    except OSError:
        pass
    return out


def innermost(stack: list, skip_files: tuple[str, ...] = ()) -> str | None:
    """The innermost function of a stack that is in the test targets."""
    for func, path, _line in reversed(stack):
        if str(TARGETS) in path and not path.endswith(skip_files):
            return func
    return None
