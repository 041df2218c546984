"""A cgroup with a CPU quota, made by a test where the machine allows it (root, a
writable cgroup v2 with the cpu controller, or a cgroup v1 ``cpu`` hierarchy).

    with cpu_quota(1.0) as procs:       # pytest.skip()s where no cgroup can be made
        cmd = ["sh", "-c", f'echo $$ > {procs} && exec python server.py']
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PERIOD_US = 100_000


def _v2_root() -> Path | None:
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        if right.split()[:1] == ["cgroup2"]:
            root = Path(left.split()[4])
            if "cpu" in (root / "cgroup.controllers").read_text().split():
                return root
    return None


def _v1_root() -> Path | None:
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        after = right.split()
        if after[:1] == ["cgroup"] and "cpu" in after[2].split(","):
            return Path(left.split()[4])
    return None


def _make(cores: float) -> tuple[Path, Path]:
    """(the cgroup's directory, its cgroup.procs), quota set; OSError if not allowed."""
    name = f"pinkclinic-test-{uuid.uuid4().hex[:8]}"
    quota = int(cores * PERIOD_US)
    v2 = _v2_root()
    if v2 is not None:
        control = (v2 / "cgroup.subtree_control").read_text().split()
        if "cpu" not in control:
            (v2 / "cgroup.subtree_control").write_text("+cpu")
        d = v2 / name
        d.mkdir()
        (d / "cpu.max").write_text(f"{quota} {PERIOD_US}")
        return d, d / "cgroup.procs"
    v1 = _v1_root()
    if v1 is None:
        raise OSError("no cgroup cpu controller mounted")
    d = v1 / name
    d.mkdir()
    (d / "cpu.cfs_period_us").write_text(str(PERIOD_US))
    (d / "cpu.cfs_quota_us").write_text(str(quota))
    return d, d / "cgroup.procs"


@contextlib.contextmanager
def cpu_quota(cores: float) -> Iterator[Path]:
    """A new cgroup limited to ``cores``; yields its ``cgroup.procs``. Removed afterwards
    (its processes must have ended)."""
    try:
        d, procs = _make(cores)
    except OSError as e:
        pytest.skip(f"cannot make a cgroup with a CPU quota here: {e}")
    try:
        yield procs
    finally:
        for _ in range(50):
            try:
                os.rmdir(d)
                break
            except OSError:
                import time
                time.sleep(0.1)
