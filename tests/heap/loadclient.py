"""A small bounded HTTP/1.1 keep-alive client for the heap tests.

It stands in for the load generator (built in parallel) and produces the same
per-second timeline as ``load.jsonl``: ``{"t": bin_start, "requests": n}``.
Every request carries a distinct ``n`` so URL-keyed caches see new keys.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections import Counter


def drive(port: int, seconds: float, *, connections: int = 2, path: str = "/visit") -> dict:
    """Send requests for ``seconds``; return the window, per-second bins and totals."""
    counter = itertools.count()
    bins: Counter[int] = Counter()
    lock = threading.Lock()
    errors: list[str] = []
    t0 = time.time()
    deadline = t0 + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        done: Counter[int] = Counter()
        try:
            while time.time() < deadline:
                conn.request("GET", f"{path}?n={next(counter)}&src=heap-test")
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    errors.append(f"HTTP {resp.status}")
                    return
                done[int(time.time() - t0)] += 1
        except OSError as e:
            errors.append(repr(e))
        finally:
            conn.close()
            with lock:
                bins.update(done)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t1 = time.time()
    if errors:
        raise RuntimeError(f"load failed: {errors[:3]}")
    last = int(t1 - t0)
    ticks = [{"t": t0 + s, "requests": bins.get(s, 0)} for s in range(last + 1)]
    return {"window": (t0, t1), "ticks": ticks, "requests": sum(bins.values())}
