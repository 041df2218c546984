"""Usable cores of a real process: the machine's, its CPU affinity, its cgroup's quota."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from pinkclinic.collect.cores import usable_cores
from tests.cgroup import cpu_quota
from tests.helpers import stop_group

SLEEP = [sys.executable, "-c", "import time; time.sleep(30)"]


def test_own_process():
    got = usable_cores(os.getpid())
    assert got["machine"] == os.cpu_count()
    assert got["affinity"] == len(os.sched_getaffinity(0))
    assert got["usable"] == min(x for x in (got["machine"], got["affinity"], got["cgroup_quota"]) if x)


def test_affinity_of_another_process():
    proc = subprocess.Popen(SLEEP, start_new_session=True,
                            preexec_fn=lambda: os.sched_setaffinity(0, {0}))
    try:
        got = usable_cores(proc.pid)
        assert got["affinity"] == 1 and got["usable"] == 1
    finally:
        stop_group(proc)


def test_cgroup_quota_of_another_process():
    with cpu_quota(0.5) as procs:
        proc = subprocess.Popen(["sh", "-c", f"echo $$ > {procs} && exec {' '.join(SLEEP[:2])} "
                                 f"'{SLEEP[2]}'"], start_new_session=True)
        try:
            for _ in range(100):  # until the shell has moved itself
                got = usable_cores(proc.pid)
                if got["cgroup_quota"] is not None:
                    break
                time.sleep(0.02)
            assert got["cgroup_quota"] == 0.5 and got["usable"] == 0.5, got
            assert got["cgroup_file"].startswith(str(procs.parent))
        finally:
            stop_group(proc)


def test_quota_files_of_both_cgroup_versions(tmp_path):
    """The files' formats, read from real files: cgroup v2's ``cpu.max`` and v1's
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (``max`` and ``-1``: no quota)."""
    from pinkclinic.collect.cores import _quota_at

    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert _quota_at("v2", str(tmp_path)) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert _quota_at("v2", str(tmp_path)) is None
    (tmp_path / "cpu.cfs_quota_us").write_text("50000\n")
    (tmp_path / "cpu.cfs_period_us").write_text("100000\n")
    assert _quota_at("v1", str(tmp_path)) == 0.5
    (tmp_path / "cpu.cfs_quota_us").write_text("-1\n")
    assert _quota_at("v1", str(tmp_path)) is None
    assert _quota_at("v2", str(tmp_path / "missing")) is None


def test_throttling_counters_of_both_cgroup_versions(tmp_path):
    """``cpu.stat`` beside the quota's file: v2 counts the throttled time in µs, v1 in
    ns; no such file, or no counters in it: ``None``."""
    from pinkclinic.collect.cores import cgroup_throttling

    v2, v1 = tmp_path / "v2", tmp_path / "v1"
    v2.mkdir()
    v1.mkdir()
    (v2 / "cpu.stat").write_text("usage_usec 900\nnr_periods 31\nnr_throttled 11\n"
                                 "throttled_usec 158260\nnr_bursts 0\n")
    (v1 / "cpu.stat").write_text("nr_periods 31\nnr_throttled 11\nthrottled_time 158260008\n")
    want = {"periods": 31, "throttled_periods": 11}
    assert cgroup_throttling(str(v2 / "cpu.max")) == {**want, "throttled_s": 0.15826}
    assert cgroup_throttling(str(v1 / "cpu.cfs_quota_us")) == {**want, "throttled_s": 0.15826}
    assert cgroup_throttling(str(tmp_path / "missing" / "cpu.max")) is None
    (v2 / "cpu.stat").write_text("usage_usec 900\n")
    assert cgroup_throttling(str(v2 / "cpu.max")) is None
