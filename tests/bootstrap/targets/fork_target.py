"""Forks a child that runs an asyncio loop and blocks it once; prints the child's PID."""
import asyncio
import os
import sys
import time


def child_blocking_call():
    time.sleep(0.1)


async def child_main():
    await asyncio.sleep(0.1)
    child_blocking_call()  # a calm loop's first stall may end unseen
    await asyncio.sleep(0.25)
    child_blocking_call()  # the watcher is on alert: caught in progress
    await asyncio.sleep(0.1)


pid = os.fork()
if pid == 0:
    asyncio.run(child_main())
    sys.stdout.flush()
    os._exit(0)
print(pid, flush=True)
os.waitpid(pid, 0)
