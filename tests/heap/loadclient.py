"""A small bounded HTTP/1.1 keep-alive client for the heap tests.

It stands in for pinkclinic's load generator, so that the analysis can be tested
without it, and produces the same per-second timeline as ``load.jsonl``:
``{"t": bin_start, "requests": n, "status": {"200": n, ...}}``. Every request carries a
distinct ``n`` so URL-keyed caches see new keys. A non-200 answer is counted, not
fatal, so that a test can assert what share of the load was served.
"""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from collections import Counter


def drive(port: int, seconds: float, *, connections: int = 2, path: str = "/visit") -> dict:
    """Send requests for ``seconds``; return the window, per-second bins and totals
    (``requests``: responses; ``served``: 200s)."""
    counter = itertools.count()
    bins: dict[int, Counter[str]] = {}
    lock = threading.Lock()
    errors: list[str] = []
    t0 = time.time()
    deadline = t0 + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        done: dict[int, Counter[str]] = {}
        try:
            while time.time() < deadline:
                conn.request("GET", f"{path}?n={next(counter)}&src=heap-test")
                resp = conn.getresponse()
                resp.read()
                done.setdefault(int(time.time() - t0), Counter())[str(resp.status)] += 1
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
        except OSError as e:
            errors.append(repr(e))
        finally:
            conn.close()
            with lock:
                for s, c in done.items():
                    bins.setdefault(s, Counter()).update(c)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t1 = time.time()
    if errors:
        raise RuntimeError(f"load failed: {errors[:3]}")
    last = int(t1 - t0)
    ticks = [{"t": t0 + s, "requests": sum(bins.get(s, Counter()).values()),
              "status": dict(bins.get(s, Counter()))} for s in range(last + 1)]
    total = sum(t["requests"] for t in ticks)
    served = sum(t["status"].get("200", 0) for t in ticks)
    return {"window": (t0, t1), "ticks": ticks, "requests": total, "served": served}
