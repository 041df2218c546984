"""An ASGI app served by hypercorn, which speaks HTTP/2: h2c with prior knowledge on a
plain port, and h2 through ALPN when given a certificate. It counts requests per HTTP
version.

    python samples/workflows/h2_app.py 8443                     # h2c
    python samples/workflows/h2_app.py 8443 cert.pem key.pem    # TLS
    pinkclinic bench --http2 --streams 10 http://127.0.0.1:8443/

``GET /__counts`` returns ``{"2": n, "1.1": n}`` (not counted itself); ``GET /__stats``
returns ``{"body_bytes": n, "max_inflight": n}``: request body bytes received, and the
most requests in progress at once. ``H2_MAX_STREAMS`` sets hypercorn's
SETTINGS_MAX_CONCURRENT_STREAMS (100 by default).
"""

import asyncio
import json
import os
import sys
from collections import Counter

from hypercorn.asyncio import serve
from hypercorn.config import Config

counts: Counter = Counter()
stats = {"body_bytes": 0, "max_inflight": 0}
inflight = 0


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif msg["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    global inflight
    if scope["path"] == "/__counts":
        body = json.dumps(dict(counts)).encode()
    elif scope["path"] == "/__stats":
        body = json.dumps(stats).encode()
    else:
        counts[scope["http_version"]] += 1
        inflight += 1
        stats["max_inflight"] = max(stats["max_inflight"], inflight)
        try:
            while True:
                msg = await receive()
                stats["body_bytes"] += len(msg.get("body", b""))
                if not msg.get("more_body"):
                    break
            await asyncio.sleep(0.001)  # requests overlap, so that max_inflight means something
        finally:
            inflight -= 1
        body = b"hello over HTTP/" + scope["http_version"].encode() + b"\n"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    config = Config()
    config.bind = [f"127.0.0.1:{sys.argv[1] if len(sys.argv) > 1 else 8443}"]
    config.accesslog = None
    # hypercorn's default (1,000) ends each connection with a GOAWAY whose last stream
    # it never answers; pinkclinic copes (1 s, one "goaway" error), but a benchmark
    # of the server itself should not be paced by it
    config.keep_alive_max_requests = int(os.environ.get("H2_MAX_REQUESTS", "1000000"))
    config.h2_max_concurrent_streams = int(os.environ.get("H2_MAX_STREAMS", "100"))
    if len(sys.argv) > 3:
        config.certfile, config.keyfile = sys.argv[2], sys.argv[3]
    try:
        asyncio.run(serve(app, config))
    except KeyboardInterrupt:
        pass
