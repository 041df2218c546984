"""Acts like pinkclinic in a terminal: launches a server, waits; on Ctrl-C (SIGINT to its
process group) it stops the target itself and prints how the target ended."""

import json
import signal
import sys
import time
from pathlib import Path

from pinkclinic.target import launch

# a terminal job gets Ctrl-C; an ignored SIGINT inherited from whatever started this
# helper (seen in the full suite: the parent slept its 60 s and printed nothing) is not
# what is being tested
signal.signal(signal.SIGINT, signal.default_int_handler)

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
