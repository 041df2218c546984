"""An HTTP server with three busy threads, for py-spy and the sampler."""

import http.server
import threading
import time


def spin():
    while True:
        sum(range(20000))
        time.sleep(0.002)


for _ in range(3):
    threading.Thread(target=spin, daemon=True).start()
http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler).serve_forever()
