"""An asyncio loop busy about 40% of the time (4 ms of Python every 10 ms) with a few
tasks waiting on an event, for ~3.5 s. Prints, as JSON, the voluntary context switches
(wake-ups) of each of the probe's threads (``pkprobe-*``) between 1.5 s and 3.5 s."""

import asyncio
import json
import os
import time


def wakeups():
    out = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/self/task/{tid}/status") as f:
                n = next(int(line.split()[1]) for line in f
                         if line.startswith("voluntary_ctxt_switches"))
        except (OSError, StopIteration):
            continue
        if comm.startswith("pkprobe"):
            out[comm.split("-")[1]] = n
    return out


async def work(end):
    while time.monotonic() < end:
        t = time.monotonic() + 0.004
        while time.monotonic() < t:
            pass
        await asyncio.sleep(0.006)


async def main():
    start = time.monotonic()
    event = asyncio.Event()
    waiters = [asyncio.ensure_future(event.wait()) for _ in range(5)]
    busy = asyncio.ensure_future(work(start + 3.5))
    await asyncio.sleep(1.5)
    before = wakeups()
    await asyncio.sleep(2.0)
    after = wakeups()
    event.set()
    await asyncio.gather(busy, *waiters)
    print(json.dumps({k: after[k] - before.get(k, 0) for k in after}))


asyncio.run(main())
