"""LEAK: an audit list that only grows (stdlib ThreadingHTTPServer, HTTP/1.1).

`remember_visit` appends a record of every request (path and headers, about
1 kB) to a module-level list that nothing ever trims.
"""

from __future__ import annotations

import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import port_from_argv

_audit: list[str] = []


def remember_visit(path: str, headers) -> None:
    record = f"{time.time():.6f} {path} " + " ".join(f"{k}={v}" for k, v in headers.items())
    _audit.append(record.ljust(1024))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def do_GET(self):
        remember_visit(self.path, self.headers)
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # no per-request log line
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port_from_argv()), Handler)
    server.daemon_threads = True
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
