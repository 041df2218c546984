"""Three threads running pure Python for ~4 s, then exit: the GIL is always wanted, so any
other thread (the probe's sampler) waits for it at each switch interval."""

import threading
import time

END = time.monotonic() + 4.0


def spin():
    n = 0
    while time.monotonic() < END:
        n += 1


threads = [threading.Thread(target=spin) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
