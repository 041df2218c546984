"""A threaded server (the standard library's ThreadingHTTPServer, a thread per
connection) with two kinds of CPU-bound request.

* ``/digest`` hashes an 8 MiB buffer with hashlib, which releases the GIL: with more
  connections than cores the threads wait for a core, not for the GIL.
  Expected verdict: healthy, with "the 2 usable cores were saturated" in its summary
  (``taskset -c 0``: "the 1 usable core").
* ``/score`` runs a pure-Python loop, which holds the GIL: the threads wait for it.
  Expected verdict: gil-contention, culprit ``score_candidates``.

    pinkclinic doctor --load '-c 6 -d 10 /digest' -- python samples/saturated_threads.py
    pinkclinic doctor --load '-c 6 -d 10 /score' -- python samples/saturated_threads.py
"""

import hashlib
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BUFFER = os.urandom(8 << 20)


def checksum_upload() -> str:
    return hashlib.sha256(BUFFER).hexdigest()  # hashlib drops the GIL above 2 KiB


def score_candidates(n: int) -> int:
    best = 0
    for i in range(n):
        best = max(best, (i * 2654435761) % 4_294_967_296 % 1000)
    return best


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body go out in two writes: with Nagle's algorithm on, the body
    # waits for the client's delayed ACK (~40 ms on Linux), and every request would wait
    # on that rather than on the CPU.
    disable_nagle_algorithm = True

    def do_GET(self):
        if self.path.startswith("/digest"):
            body = checksum_upload().encode()
        elif self.path.startswith("/score"):
            body = str(score_candidates(60_000)).encode()
        else:
            body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8000"))), Handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()
