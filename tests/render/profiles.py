"""Deterministic profiles for renderer tests: areas, threads, processes, idle, hostile names."""

from __future__ import annotations

import sysconfig

from pinkclinic.profile import from_stacks

STDLIB = sysconfig.get_paths()["stdlib"]
SITE = sysconfig.get_paths()["purelib"]
APP = "/srv/shop/app.py"
HOSTILE = '</script><img src=x onerror="document.title=\'pwned\'">'
HOSTILE_FILE = '/srv/<b>evil</b>&amp;.py'

RUN = ("Server.run", f"{SITE}/uvicorn/server.py", 60)
LOOP = ("BaseEventLoop._run_once", f"{STDLIB}/asyncio/base_events.py", 1900)
HANDLE = ("Handle._run", f"{STDLIB}/asyncio/events.py", 80)
ROUTE = ("Router.__call__", f"{SITE}/starlette/routing.py", 700)
VIEW = ("checkout", APP, 20)
HOT = ("compute_prices", APP, 40)
JSON = ("JSONEncoder.encode", f"{STDLIB}/json/encoder.py", 180)
SELECT = ("EpollSelector.select", f"{STDLIB}/selectors.py", 468)


def shop_profile(**kw):
    base = [RUN, LOOP, HANDLE, ROUTE, VIEW]
    stacks = [
        ([*base, HOT], 600, 600, 100, 100),
        ([*base, HOT, ("round_price", APP, 55)], 150, 150, 100, 100),
        ([*base, JSON], 120, 120, 100, 100),
        ([*base, (HOSTILE, HOSTILE_FILE, 3)], 40, 40, 100, 100),
        (base[:4], 30, 30, 100, 100),
        ([RUN, LOOP, SELECT], 900, 900, 100, 100),
        ([("Thread.run", f"{STDLIB}/threading.py", 982), ("flush_metrics", APP, 90)],
         60, 60, 100, 101),
        ([RUN, LOOP, HANDLE, ROUTE, VIEW, HOT], 300, 300, 200, 200),
    ]
    return from_stacks(stacks, thread_names={(100, 100): "MainThread", (100, 101): "metrics",
                                             (200, 200): "MainThread"},
                       process_names={100: f"python app.py {HOSTILE}", 200: "worker 2"},
                       meta={"rate_hz": 100, "title": f"shop {HOSTILE}",
                             "command": ["python", "app.py", HOSTILE]}, **kw)
