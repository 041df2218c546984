"""A small HTTP/1.1 server on a bare asyncio (or uvloop) loop, standard library only so
that any pyenv Python runs it: ``python loop_server.py PORT [uvloop]``. Each request
makes some garbage (cycles for the GC) and answers "ok"."""
import asyncio
import sys


async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                break
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
    if sys.argv[2:] == ["uvloop"]:
        import uvloop
        uvloop.install()
    asyncio.run(main(int(sys.argv[1])))
