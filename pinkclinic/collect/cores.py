"""The cores a process may use: not the machine's, but what its CPU affinity and its
cgroup's CPU quota leave it.

* the machine's cores: ``os.cpu_count()``;
* the CPU affinity (``taskset -c 0``, a cpuset): ``os.sched_getaffinity(pid)``;
* the cgroup CPU quota, in cores: ``cpu.max`` (cgroup v2: ``"50000 100000"`` is half a
  core, ``"max 100000"`` none) or ``cpu.cfs_quota_us / cpu.cfs_period_us`` (cgroup v1,
  ``-1``: none). A quota set on a parent cgroup also applies, so the tightest one from
  the process's own cgroup up to the mount's root counts.

The cgroup files are found through ``/proc/PID/cgroup`` and ``/proc/self/mountinfo``, so
this works for another process (``--pid``) and inside a container (a cgroup namespace
shows the container's own cgroup as the mount's root). Anything unreadable is left
out (``None``), never guessed.

Where a quota applies, the kernel also counts how often it stopped the cgroup:
:func:`cgroup_throttling` reads the quota's cgroup's ``cpu.stat`` (its periods, the periods
in which the quota ran out and its threads were stopped, and for how long). This is what
container platforms watch (Kubernetes' CPUThrottlingHigh alert fires above 25% of the
periods).
"""

from __future__ import annotations

import os


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return None


def _mounts() -> list[tuple[str, str, str, set[str]]]:
    """(root, mount point, fstype, super options) of every cgroup mount."""
    out = []
    for line in (_read("/proc/self/mountinfo") or "").splitlines():
        left, _, right = line.partition(" - ")
        fields, after = left.split(), right.split()
        if len(fields) < 5 or len(after) < 3 or not after[0].startswith("cgroup"):
            continue
        out.append((fields[3], fields[4], after[0], set(after[2].split(","))))
    return out


def _cgroup_dirs(pid: int) -> list[tuple[str, str, str]]:
    """(version, the process's cgroup directory, the mount point) for its CPU controller:
    ``"v2"`` for the unified hierarchy, ``"v1"`` for a ``cpu`` one."""
    out = []
    mounts = _mounts()
    for line in (_read(f"/proc/{pid}/cgroup") or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            found = [(r, m) for r, m, fs, _ in mounts if fs == "cgroup2"]
            version = "v2"
        elif "cpu" in controllers.split(","):
            found = [(r, m) for r, m, fs, opts in mounts if fs == "cgroup" and "cpu" in opts]
            version = "v1"
        else:
            continue
        for root, mount in found:
            if root == "/":
                rel = path
            elif path.startswith(root):
                rel = path[len(root):]
            else:
                rel = "/"  # outside the mount's view: its root is the closest we can read
            out.append((version, os.path.normpath(mount + "/" + rel.lstrip("/")), mount))
    return out


def _quota_at(version: str, d: str) -> float | None:
    if version == "v2":
        text = _read(f"{d}/cpu.max")
        if text is None or text.startswith("max"):
            return None
        quota, _, period = text.partition(" ")
    else:
        quota, period = _read(f"{d}/cpu.cfs_quota_us") or "-1", _read(f"{d}/cpu.cfs_period_us") or "0"
    try:
        q, p = int(quota), int(period or 100000)
    except ValueError:
        return None
    return q / p if q > 0 and p > 0 else None


def cgroup_quota(pid: int) -> tuple[float, str] | None:
    """The tightest CPU quota over the process's cgroup and its parents, in cores, with the
    file it came from; ``None`` without one (or where none can be read)."""
    best: tuple[float, str] | None = None
    for version, d, mount in _cgroup_dirs(pid):
        while True:
            q = _quota_at(version, d)
            if q is not None and (best is None or q < best[0]):
                best = (q, f"{d}/{'cpu.max' if version == 'v2' else 'cpu.cfs_quota_us'}")
            if d == mount or len(d) <= len(mount):
                break
            d = os.path.dirname(d)
    return best


def cgroup_throttling(cgroup_file: str) -> dict | None:
    """The CFS bandwidth counters so far of the cgroup whose quota ``cgroup_file`` holds
    (``usable_cores()["cgroup_file"]``): ``{"periods", "throttled_periods",
    "throttled_s"}``, from its ``cpu.stat`` (v2: ``throttled_usec``, v1:
    ``throttled_time`` in ns); ``None`` where it cannot be read."""
    text = _read(os.path.join(os.path.dirname(cgroup_file), "cpu.stat"))
    if text is None:
        return None
    stat = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            stat[key] = int(value)
    if "nr_periods" not in stat or "nr_throttled" not in stat:
        return None
    if "throttled_usec" in stat:
        seconds = stat["throttled_usec"] / 1e6
    else:
        seconds = stat.get("throttled_time", 0) / 1e9
    return {"periods": stat["nr_periods"], "throttled_periods": stat["nr_throttled"],
            "throttled_s": round(seconds, 6)}


def usable_cores(pid: int) -> dict:
    """``{"machine", "affinity", "cgroup_quota", "cgroup_file", "usable"}``: the cores of
    the machine, of the process's affinity mask, of its cgroup quota (``None`` when there
    is none) and the least of them, which is what the process can use at once."""
    machine = os.cpu_count() or 1
    try:
        affinity: int | None = len(os.sched_getaffinity(pid))
    except (OSError, AttributeError):
        affinity = None
    got = cgroup_quota(pid)
    limits = [machine] + [x for x in (affinity, got and got[0]) if x]
    return {"machine": machine, "affinity": affinity,
            "cgroup_quota": None if got is None else round(got[0], 3),
            "cgroup_file": None if got is None else got[1], "usable": round(min(limits), 3)}
