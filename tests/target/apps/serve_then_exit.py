"""Serves HTTP for a moment, then exits on its own with code 4."""

import http.server
import os
import threading
import time

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
threading.Thread(target=server.serve_forever, daemon=True).start()
time.sleep(float(os.environ.get("SERVE_FOR", "1.0")))
os._exit(4)
