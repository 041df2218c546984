"""loop-blocking-call on aiohttp: a blocking socket round trip in a handler.
Expected culprit: lookup_session.

    pinkclinic doctor -- python samples/blocking_aiohttp.py
"""

import os
import socket
import threading
import time

from aiohttp import web


def _serve(conn: socket.socket) -> None:
    with conn:
        while conn.recv(64):
            time.sleep(0.025)
            conn.sendall(b"ok\n")


def _slow_backend(listener: socket.socket) -> None:
    # a stand-in for a remote store that takes 25 ms to answer each request
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=_serve, args=(conn,), daemon=True).start()


_listener = socket.create_server(("127.0.0.1", 0))
threading.Thread(target=_slow_backend, args=(_listener,), daemon=True).start()
_local = threading.local()


def lookup_session(token: str) -> bytes:
    sock = getattr(_local, "sock", None)
    if sock is None:
        sock = _local.sock = socket.create_connection(_listener.getsockname())
    sock.sendall(token.encode() + b"\n")  # a synchronous client used from async code
    return sock.recv(64)


async def profile(request):
    return web.json_response({"session": lookup_session("abc").decode().strip()})


app = web.Application()
app.router.add_get("/", profile)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8000")), print=None,
                access_log=None)
