"""The thread-state collector's run-queue times (schedstat) on a real process: two
threads hashing (hashlib releases the GIL) on one core share it, so each waits for it."""

from __future__ import annotations

import os
import sys
import time

from pinkclinic.collect.psutil_sampler import ProcessSampler
from pinkclinic.jsonio import read_jsonl, read_jsonl_header
from pinkclinic.recording import Recording
from tests.cgroup import cpu_quota

HASHING = """
import hashlib, threading, time
buf = b"x" * (4 << 20)
def work():
    while True:
        hashlib.sha256(buf).digest()
for _ in range(2):
    threading.Thread(target=work, daemon=True).start()
print("ready", flush=True)
time.sleep(30)
"""


def sample_hashing(start, tmp_path, prefix: list[str]) -> Recording:
    """Start HASHING under ``prefix``, record its thread states for 1.6 s, stop it."""
    rec = Recording.create(tmp_path, "s", "doctor")
    target = start([*prefix, sys.executable, "-c", HASHING])
    deadline = time.monotonic() + 10
    while "ready" not in (tmp_path / "target.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    sampler = ProcessSampler.for_recording(rec, target.pid, thread_states=True).start()
    time.sleep(1.6)
    sampler.stop()
    target.stop(5)
    return rec


def test_two_threads_on_one_core_wait_for_it(start, tmp_path):
    core = max(os.sched_getaffinity(0))
    rec = sample_hashing(start, tmp_path, ["taskset", "-c", str(core)])
    path = rec.stream_file("threads")
    assert read_jsonl_header(path)["schema_version"] == 3
    records = [r for r in read_jsonl(path) if "sched" in r]
    assert records and all("error" not in r for r in read_jsonl(path))
    assert not any("throttle" in r for r in records)  # no quota, no throttling counters
    on_cpu = runq = wall = 0.0
    for r in records:
        assert r["cores"]["affinity"] == 1 and r["cores"]["usable"] == 1, r["cores"]
        assert set(r["sched"]) <= set(r["tids"])
        for a, b in r["sched"].values():
            assert a >= 0 and b >= 0 and a + b <= r["dur_s"] + 0.05, r
        hot = sorted(r["sched"].values(), key=lambda v: -v[0])[:2]
        on_cpu += sum(v[0] for v in hot)
        runq += sum(v[1] for v in hot)
        wall += r["dur_s"]
    # one core between two runnable threads: together at most the core, and each waits
    assert on_cpu <= 1.1 * wall, (on_cpu, wall)
    assert runq >= 0.5 * wall, (runq, wall)


QUOTA = 0.2


def test_a_quota_s_throttling_is_counted(start, tmp_path):
    """Two threads hashing in a cgroup with a fifth of a core: the quota runs out in
    (nearly) every 100 ms period, and each record carries the kernel's counters so far.
    A fifth, not a half: with other work on both cores (a CI run beside another job) the
    two threads did not always get half a core, and 6 of 11 periods ran out."""
    with cpu_quota(QUOTA) as procs:
        rec = sample_hashing(start, tmp_path, ["sh", "-c", f'echo $$ > {procs} && exec "$@"', "sh"])
    got = [r["throttle"] for r in read_jsonl(rec.stream_file("threads")) if "sched" in r]
    assert len(got) >= 2 and all(r["cores"]["cgroup_quota"] == QUOTA for r in read_jsonl(
        rec.stream_file("threads")) if "sched" in r)
    first, last = got[0], got[-1]
    periods = last["periods"] - first["periods"]
    throttled = last["throttled_periods"] - first["throttled_periods"]
    assert periods >= 5 and throttled >= 0.8 * periods, got
    # two threads wanting a core each, 20 ms of CPU allowed per 100 ms period: on two free
    # cores it runs out within ~10 ms and the cgroup is stopped for the rest; 20 ms a
    # period leaves room for a busy machine
    assert last["throttled_s"] - first["throttled_s"] >= 0.02 * periods, got
