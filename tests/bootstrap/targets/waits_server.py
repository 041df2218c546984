"""An asyncio server whose requests queue on a semaphore in front of a slow backend."""

import asyncio
import sys

POOL = None


async def fetch_from_backend():
    async with POOL:
        await asyncio.sleep(0.2)


async def handle(reader, writer):
    await reader.readuntil(b"\r\n\r\n")
    await fetch_from_backend()
    writer.write(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    await writer.drain()
    writer.close()


async def main(port):
    global POOL
    POOL = asyncio.Semaphore(1)
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
