"""The psutil sampler on real process trees: the stream contract and the window API."""

from __future__ import annotations

import itertools
import json
import os
import sys
import time

from pinkclinic.collect.psutil_sampler import ProcessSampler
from pinkclinic.jsonio import dumps, read_jsonl, read_jsonl_header
from pinkclinic.recording import Recording

FIELDS = {"t", "pid", "ppid", "name", "cpu_user_s", "cpu_system_s", "rss", "threads", "fds",
          "ctx_voluntary", "ctx_involuntary"}

# busy for 1 s, then a child that allocates 80 MB and exits, then idle
SCRIPT = """
import subprocess, sys, time
end = time.time() + 1.0
while time.time() < end:
    pass
subprocess.run([sys.executable, "-c", "import time; b = bytearray(80_000_000); time.sleep(0.6)"])
time.sleep(30)
"""


def test_stream_events_and_windows(start, tmp_path):
    rec = Recording.create(tmp_path, "1", "doctor")
    target = start([sys.executable, "-c", SCRIPT])
    t0 = time.time()
    sampler = ProcessSampler.for_recording(
        rec, target.pid, interval=0.01,
        returncode=lambda pid: target.returncode if pid == target.pid else None).start()
    time.sleep(2.6)
    t1 = time.time()
    target.stop(5)
    time.sleep(0.1)
    sampler.stop()

    path = rec.stream_file("processes")
    assert read_jsonl_header(path) == {"schema_version": 1, "stream": "processes",
                                       "interval_ms": 10.0, "root_pid": target.pid,
                                       "cpu_count": os.cpu_count()}
    recs = list(read_jsonl(path))
    for line in path.read_text().splitlines():              # the fast formatter is exact
        assert dumps(json.loads(line)) == line
    samples = [r for r in recs if "event" not in r]
    events = [r for r in recs if "event" in r]
    assert all(r.keys() >= FIELDS for r in samples)
    pids = {r["pid"] for r in samples}
    assert len(pids) == 2                                       # the script and its child
    child = (pids - {target.pid}).pop()
    assert [e["event"] for e in events if e["pid"] == child] == ["spawn", "exit"]
    assert [e.get("returncode", "-") for e in events if e["pid"] == child] == ["-", None]
    assert [e["event"] for e in events if e["pid"] == target.pid] == ["spawn", "exit"]
    assert events[-1]["returncode"] == target.returncode != None, events   # noqa: E711
    root = [r for r in samples if r["pid"] == target.pid]
    assert len(root) > 150                                      # ~100 ticks a second
    assert 0 < sum("uss" in r for r in root) < len(root) / 10    # USS on some ticks only
    assert all(a["t"] <= b["t"] for a, b in itertools.pairwise(root))
    # the window API: the busy second is ~100% of a core, the child's 80 MB is in the peak
    # (the busy loop runs 1 s of wall time: with other work on both cores it gets only a
    # share of one, 21% at a load average of 8; the integral below is the exact check)
    busy, idle = sampler.cpu_percent(t0, t0 + 0.9), sampler.cpu_percent(t1 - 0.5, t1)
    assert idle < 10 and busy > max(5, 4 * idle), (busy, idle)
    # exact: the window's CPU % times its length is the CPU time the tree used in it.
    # The window's edges are the sampler's tick times: a sample's own "t" is the middle
    # of its read, later in the tick, and on a busy machine later than the next tick's
    # rounded time would allow, so a window from sample times lost the first tick
    # (10 ms of a busy core: 1.6 points against the 1.1 allowed for the clock ticks).
    first = sampler.times[0]
    last = max(t for t in sampler.times if t <= samples[-1]["t"])
    used = sum(max(r["cpu_user_s"] + r["cpu_system_s"] for r in samples if r["pid"] == p)
               for p in pids) - (samples[0]["cpu_user_s"] + samples[0]["cpu_system_s"])
    assert abs(sampler.cpu_percent(first, last) * (last - first) / 100 - used) < 0.011
    assert sampler.peak_rss(t0, t1) > 80_000_000
    assert sampler.peak_rss(t0, t0 + 0.5) < 80_000_000
    assert sampler.cpu_percent(t1 + 100, t1 + 200) is None
    cost = sampler.cost()
    assert cost["ticks"] > 150 and cost["us_per_process_read"] > 0


def test_sampler_without_a_file_and_a_vanished_root(start):
    target = start([sys.executable, "-c", "import time; time.sleep(0.3)"])
    sampler = ProcessSampler(target.pid, None, interval=0.01).start()
    target.wait_exit(10)
    time.sleep(0.1)
    sampler.stop()
    assert sampler.ticks > 5 and sampler.peak_rss(0, time.time()) > 0


THREADS_SCRIPT = """
import threading, time
def spin():
    while True:
        sum(range(1000))
def nap():
    while True:
        time.sleep(0.2)
lock = threading.Lock()
lock.acquire()
threading.Thread(target=spin, name="spin", daemon=True).start()
threading.Thread(target=nap, name="nap", daemon=True).start()
threading.Thread(target=lock.acquire, name="locked", daemon=True).start()
print(threading.get_native_id(), flush=True)
time.sleep(30)
"""


def test_thread_states_tell_running_from_sleeping_and_futex(start, tmp_path):
    rec = Recording.create(tmp_path, "2", "doctor")
    target = start([sys.executable, "-c", THREADS_SCRIPT])
    deadline = time.monotonic() + 10
    while not (tmp_path / "target.log").read_text().strip() and time.monotonic() < deadline:
        time.sleep(0.05)
    sampler = ProcessSampler.for_recording(rec, target.pid, interval=0.01,
                                           thread_states=True).start()
    time.sleep(1.5)
    sampler.stop()
    target.stop(5)
    path = rec.stream_file("threads")
    assert read_jsonl_header(path)["states"] == ["running", "futex", "blocked"]
    totals: dict[int, list[int]] = {}
    for r in read_jsonl(path):
        assert "error" not in r, r
        for tid, counts in r["tids"].items():
            acc = totals.setdefault(int(tid), [0, 0, 0])
            for i, n in enumerate(counts):
                acc[i] += n
    shares = {tid: [n / sum(c) for n in c] for tid, c in totals.items() if sum(c)}
    main = int((tmp_path / "target.log").read_text().split()[0])
    assert shares[main][2] > 0.8, shares           # the main thread sleeps: blocked
    # one thread spins (running or waiting for the GIL), one sleeps, one waits on a lock
    assert any(s[0] + s[1] > 0.8 for t, s in shares.items() if t != main), shares
    assert sum(1 for s in shares.values() if s[2] > 0.8) >= 2, shares
    assert sum(1 for s in shares.values() if s[1] > 0.8) >= 1, shares
    # no catch-up burst after a late tick: a burst is three ticks or more inside one
    # interval. A tick that woke late (the machine busy) is followed by one closer than an
    # interval, never by two: wake-ups are late, never early. Tick times, not the samples'
    # (a sample's "t" is the middle of its read, later again when the reader was preempted).
    gaps = [b - a for a, b in itertools.pairwise(sampler.times)]
    assert not any(g1 < 0.005 and g2 < 0.005 for g1, g2 in itertools.pairwise(gaps)), gaps
