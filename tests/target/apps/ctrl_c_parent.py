"""Acts like pinkclinic in a terminal: launches a server, waits; on Ctrl-C (SIGINT to its
process group) it stops the target itself and prints how the target ended."""

import json
import sys
import time
from pathlib import Path

from pinkclinic.target import launch

out = Path(sys.argv[1])
target = launch([sys.executable, "-m", "http.server", "0", "--bind", "127.0.0.1"],
                log_path=out / "target.log")
target.wait_listening(15)
try:
    print("ready", flush=True)
    time.sleep(60)
except KeyboardInterrupt:
    time.sleep(0.3)                          # the target must still be running now
    alive_before_stop = target.poll() is None
    ending = target.stop(5)
    print(json.dumps({"alive_before_stop": alive_before_stop, **ending.as_dict()}), flush=True)
