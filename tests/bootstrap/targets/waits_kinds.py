"""Tasks suspended on every kind of leaf at once, for ~0.6 s, then exit:
an upstream socket, an asyncio.Lock, a Semaphore(2), a Queue, run_in_executor on 2
threads, a sleep, and a gather whose children carry the parent's logical stack."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

HOLD = 0.6


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


async def in_executor(ex):
    await asyncio.get_running_loop().run_in_executor(ex, time.sleep, HOLD / 2)


async def fan_out(port, pool):
    await asyncio.gather(call_upstream(port), use_pool(pool))


async def main():
    server = await asyncio.start_server(upstream, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    lock, pool, queue = asyncio.Lock(), asyncio.Semaphore(2), asyncio.Queue()
    ex = ThreadPoolExecutor(max_workers=2)
    coros = ([hold_lock(lock) for _ in range(3)] + [use_pool(pool) for _ in range(4)]
             + [call_upstream(port)] + [in_executor(ex) for _ in range(5)] + [queue.get()]
             + [fan_out(port, pool)])
    tasks = [asyncio.ensure_future(c) for c in coros]
    await asyncio.sleep(HOLD)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    ex.shutdown(wait=True)
    server.close()


asyncio.run(main())
