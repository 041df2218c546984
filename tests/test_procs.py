"""pinkclinic.procs: readings of real processes."""

from __future__ import annotations

import subprocess
import sys
import time

from pinkclinic.procs import thread_wakeups

SLEEPER = """
import ctypes, threading, time
def nap():
    ctypes.CDLL(None).prctl(15, b"napper", 0, 0, 0)  # PR_SET_NAME: the OS's thread name
    while True:
        time.sleep(0.01)
threading.Thread(target=nap, daemon=True).start()
time.sleep(0.1)
print("ready", flush=True)
time.sleep(60)
"""


def test_thread_wakeups_counts_the_sleeps_that_ended_of_the_named_threads():
    proc = subprocess.Popen([sys.executable, "-c", SLEEPER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        every, napper = thread_wakeups(proc.pid), thread_wakeups(proc.pid, "napper")
        time.sleep(0.5)
        every2, napper2 = thread_wakeups(proc.pid), thread_wakeups(proc.pid, "napper")
        # the napper sleeps 10 ms at a time: ~50 wake-ups in 0.5 s, fewer on a busy machine;
        # the main thread, asleep for 60 s, none
        assert 20 <= napper2 - napper <= 60, (napper, napper2)
        assert abs((every2 - every) - (napper2 - napper)) <= 2, (every, every2, napper, napper2)
        assert thread_wakeups(proc.pid, "nobody-") == 0
    finally:
        proc.kill()
        proc.wait()
    assert thread_wakeups(proc.pid) == 0  # gone
