"""io-wait: every request calls an upstream HTTP service (a separate process, started by
this one) that answers in 20 ms, through aiohttp's client. About 80% of each request
is the upstream, whatever the CPU says. Expected culprit: fetch_price, on the
upstream's address.

    pinkclinic doctor -- python samples/io_wait_upstream_aiohttp.py
    pinkclinic waits -- python samples/io_wait_upstream_aiohttp.py
"""

import asyncio
import os
import subprocess
import sys

from aiohttp import ClientSession, web


async def upstream_main() -> None:
    """The upstream: a bare HTTP/1.1 keep-alive server that answers after 20 ms."""
    async def handle(reader, writer):
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                await asyncio.sleep(0.02)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n9.99")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


async def fetch_price(session: ClientSession, base: str, sku: str) -> str:
    async with session.get(f"{base}/price/{sku}") as resp:
        return await resp.text()


async def price(request):
    return web.json_response({"price": await fetch_price(request.app["session"],
                                                         request.app["upstream"], "SKU-1")})


async def start_upstream(app):
    env = {k: v for k, v in os.environ.items() if k != "PINKCLINIC_PROBE"}  # not profiled
    proc = subprocess.Popen([sys.executable, __file__, "--upstream"], env=env,
                            stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    app["upstream_proc"] = proc
    app["upstream"] = f"http://127.0.0.1:{port}"
    app["session"] = ClientSession()


async def stop_upstream(app):
    await app["session"].close()
    app["upstream_proc"].terminate()
    app["upstream_proc"].wait(5)


app = web.Application()
app.on_startup.append(start_upstream)
app.on_cleanup.append(stop_upstream)
app.router.add_get("/", price)

if __name__ == "__main__":
    if sys.argv[1:] == ["--upstream"]:
        asyncio.run(upstream_main())
    else:
        web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")),
                    print=None, access_log=None)
