"""gunicorn with 2 workers: per-PID samples for master and workers, py-spy covering the
workers, a clean stop of the whole tree."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import urllib.request

from pinkclinic import procs
from pinkclinic.collect.psutil_sampler import ProcessSampler
from pinkclinic.collect.pyspy import PySpy
from pinkclinic.jsonio import read_jsonl
from pinkclinic.recording import Recording
from pinkclinic.target import spawn
from tests.target.conftest import APPS


def _load(url: str, seconds: float) -> int:
    done = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        urllib.request.urlopen(url, timeout=5).read()
        done += 1
    return done


def test_gunicorn_tree_sampled_and_profiled(tmp_path):

    target = spawn([sys.executable, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:0",
                    "--chdir", APPS, "hello_wsgi:app"])
    rec = Recording.create(tmp_path, str(target.pid), "doctor", command=target.command)
    try:
        target.release(rec.file("target.log"))
        sampler = ProcessSampler.for_recording(rec, target.pid).start()
        listening = target.wait_listening(30)
        spy = PySpy(target.pid, rec.file("pyspy.speedscope.json"), watchdog=target.watchdog)
        started = spy.start(15)
        spy.register(rec)
        deadline = time.monotonic() + 20
        while len(target.tree()) < 3 and time.monotonic() < deadline:  # both workers booted
            time.sleep(0.05)
        tree = target.tree()
        assert len(tree) == 3
        loaders = [threading.Thread(target=_load, args=(listening.url, 1.5)) for _ in range(4)]
        for th in loaders:
            th.start()
        for th in loaders:
            th.join()
        result = spy.stop()
        ending = target.stop(10)
        sampler.stop()
    finally:
        target.stop(5)
    assert ending.outcome == "stopped" and procs.wait_gone(tree, 5) == []
    assert result["hung"] is False and result["samples"] > 100 and result["bytes"] > 0

    entry = rec.manifest["streams"]["pyspy"]
    assert entry["file"] == "pyspy.speedscope.json" and entry["rate_hz"] == 100
    assert entry["started"] == started and entry["pid"] == target.pid
    assert abs(started - time.time()) < 60

    by_pid: dict[int, int] = {}
    for r in read_jsonl(rec.stream_file("processes")):
        if "event" not in r:
            by_pid[r["pid"]] = by_pid.get(r["pid"], 0) + 1
    assert set(tree) <= set(by_pid) and all(by_pid[p] > 50 for p in tree)

    profile = json.loads(rec.file("pyspy.speedscope.json").read_text())
    profiled = {int(m.group(1)) for p in profile["profiles"]
                for m in [re.match(r"Process (\d+) ", p["name"])] if m}
    assert set(tree) <= profiled                                # master and both workers
    frames = [f["name"] for f in profile["shared"]["frames"]]
    assert "app" in frames                                      # the WSGI handler was sampled
