"""A tiny HTTP/1.0 server on a bare asyncio (or uvloop) loop; runs on Python 3.8+.

Usage: aio_server.py PORT [asyncio|uvloop]
Routes: /sleep (time.sleep 50 ms on the loop), /cpu (80 ms of computation on the
loop), anything else answers at once.
"""
import asyncio
import sys
import time


def sleepy():
    time.sleep(0.05)


def spin(ms):
    end = time.perf_counter() + ms / 1000.0
    n = 0
    while time.perf_counter() < end:
        n += 1
    return n


async def handle(reader, writer):
    line = await reader.readline()
    parts = line.split()
    path = parts[1].decode() if len(parts) > 1 else "/"
    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
        pass
    if path == "/sleep":
        sleepy()
    elif path == "/cpu":
        spin(80)
    writer.write(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
    await writer.drain()
    writer.close()


async def main(port):
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    port = int(sys.argv[1])
    if len(sys.argv) > 2 and sys.argv[2] == "uvloop":
        import uvloop

        loop = uvloop.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main(port))
    else:
        asyncio.run(main(port))
