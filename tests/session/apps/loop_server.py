"""A small HTTP/1.1 server on a bare asyncio (or uvloop) loop, standard library only so
that any pyenv Python runs it: ``python loop_server.py PORT [uvloop] [block]``. Each
request makes some garbage (cycles for the GC) and answers "ok"; with ``block`` it first
calls ``read_config``, which blocks the loop for 20 ms (doctor: loop-blocking-call)."""
import asyncio
import sys
import time

BLOCK = "block" in sys.argv[2:]


def read_config():
    time.sleep(0.02)  # a synchronous call made on the event loop


async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                break
            if BLOCK:
                read_config()
            junk = [[i] for i in range(200)]
            for a in junk:
                a.append(junk)  # cycles: work for the GC
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if "uvloop" in sys.argv[2:]:
        import uvloop
        uvloop.install()
    asyncio.run(main(int(sys.argv[1])))
