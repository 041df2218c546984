"""An asyncio loop that runs, stops for STOP_S (the main thread sleeps), and runs again:
``python phases.py READY_FILE``. Each run answers nothing; it only keeps the loop busy
with small timers, as a server does between requests."""
import asyncio
import sys
import time

RUN_S, STOP_S = 1.5, 0.6


async def phase(ready=None):
    if ready:
        open(ready, "w").close()
    end = time.monotonic() + RUN_S
    while time.monotonic() < end:
        await asyncio.sleep(0.005)


loop = asyncio.new_event_loop()
loop.run_until_complete(phase(sys.argv[1]))
time.sleep(STOP_S)  # the loop is not running: its pending callbacks wait
loop.run_until_complete(phase())
loop.close()
