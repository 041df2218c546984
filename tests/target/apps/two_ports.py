"""Serves HTTP on two ephemeral ports and, like the in-process probe, writes a ``listen``
record for the second one only into $PINKCLINIC_PROBE's dir. Prints its PID and the
probe config first, so a test can check what the exec gate passed."""

import http.server
import json
import os
import threading
import time

config = json.loads(os.environ.get("PINKCLINIC_PROBE", "{}"))
print("pythonpath", os.environ.get("PYTHONPATH", "").split(os.pathsep)[0], flush=True)
print("pid", os.getpid(), "probe", json.dumps(config, sort_keys=True), flush=True)
first = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
second = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
print("ports", first.server_address[1], second.server_address[1], flush=True)
if config.get("dir"):
    with open(os.path.join(config["dir"], f"probe-{os.getpid()}.jsonl"), "a") as f:
        f.write(json.dumps({"schema_version": 1, "stream": "probe", "pid": os.getpid()}) + "\n")
        f.write(json.dumps({"type": "listen", "t": time.time(), "host": "127.0.0.1",
                            "port": second.server_address[1], "fd": second.fileno()}) + "\n")
threading.Thread(target=first.serve_forever, daemon=True).start()
try:
    second.serve_forever()
except KeyboardInterrupt:
    pass
