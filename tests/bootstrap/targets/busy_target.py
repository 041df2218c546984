"""Runs ~2.5 s of asyncio work with a named CPU-heavy coroutine, then exits normally."""
import asyncio
import time


def busy_compute(ms):
    end = time.perf_counter() + ms / 1000.0
    total = 0
    while time.perf_counter() < end:
        total += sum(range(200))
    return total


async def worker(name):
    blobs = []
    for _ in range(25):
        busy_compute(40)
        blobs.append(bytearray(64 * 1024))
        await asyncio.sleep(0.05)
    return len(blobs)


async def main():
    await asyncio.gather(worker("a"), worker("b"))


if __name__ == "__main__":
    asyncio.run(main())
    print("done", flush=True)
