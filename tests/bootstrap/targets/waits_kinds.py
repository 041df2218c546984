"""Tasks suspended on every kind of leaf at once, for ~1.5 s, then exit:
an upstream socket, an asyncio.Lock, a Semaphore(2), a Queue, run_in_executor on 2
threads, a sleep, and a gather whose children carry the parent's logical stack.

The hold outlasts WAITS_MAX_GAP_S (1 s), so at least two task snapshots see the same
stacks however idle the loop is: an idle loop's snapshot budget allows one a second, and a
0.6 s hold gave one snapshot, with no stack to reuse, when the machine was busy."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

HOLD = 1.5


async def upstream(reader, writer):
    try:
        await reader.readline()
        await asyncio.sleep(HOLD)
    except asyncio.CancelledError:
        pass
    writer.close()


async def call_upstream(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"q\n")
    await reader.readline()  # waits on the upstream's socket
    writer.close()


async def hold_lock(lock):
    async with lock:
        await asyncio.sleep(HOLD)


async def use_pool(pool):
    async with pool:
        await asyncio.sleep(HOLD)


async def in_executor(ex, stop):
    await asyncio.get_running_loop().run_in_executor(ex, stop.wait, 10)


async def fan_out(port, pool):
    await asyncio.gather(call_upstream(port), use_pool(pool))


async def main():
    server = await asyncio.start_server(upstream, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    lock, pool, queue = asyncio.Lock(), asyncio.Semaphore(2), asyncio.Queue()
    ex, stop = ThreadPoolExecutor(max_workers=2), threading.Event()
    coros = ([hold_lock(lock) for _ in range(3)] + [use_pool(pool) for _ in range(4)]
             + [call_upstream(port)] + [in_executor(ex, stop) for _ in range(5)] + [queue.get()]
             + [fan_out(port, pool)])
    tasks = [asyncio.ensure_future(c) for c in coros]
    await asyncio.sleep(HOLD)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    stop.set()  # the 2 running jobs end; the 3 queued were cancelled with their tasks
    ex.shutdown(wait=True)
    server.close()


asyncio.run(main())
