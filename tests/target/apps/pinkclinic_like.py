"""Acts like pinkclinic mid-run: launches gunicorn with 2 workers through the gate, runs
the psutil sampler and py-spy on it, prints what it started as one JSON line, then
waits to be killed."""

import json
import os
import sys
import time
from pathlib import Path

from pinkclinic.collect.psutil_sampler import ProcessSampler
from pinkclinic.collect.pyspy import PySpy
from pinkclinic.target import spawn

out = Path(sys.argv[1])
apps = Path(__file__).resolve().parent
target = spawn([sys.executable, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:0",
                "--chdir", str(apps), "hello_wsgi:app"])
target.release(out / "target.log")
sampler = ProcessSampler(target.pid, out / "processes.jsonl").start()
listening = target.wait_listening(30)
deadline = time.monotonic() + 20
while len(target.tree()) < 3 and time.monotonic() < deadline:  # both workers booted
    time.sleep(0.05)
spy = PySpy(target.pid, out / "pyspy.speedscope.json", watchdog=target.watchdog)
spy.start(15)
print(json.dumps({"tree": target.tree(), "pyspy": spy._proc.pid, "watchdog": target.watchdog.pid,
                  "url": listening.url, "me": os.getpid()}), flush=True)
time.sleep(120)
