"""The per-request cost of feature ``routes``' wrappers, on their own: nanoseconds per call.

bench/cost.py's ``probe:routes`` measures the whole feature in a real server, where
a few µs per request are within the shared machine's noise; this one times the wrappers
alone, in one process pinned to one core: a minimal ASGI app (``http.response.start``
and one body message to a no-op ``send``) and a minimal WSGI app, each called bare and
through ``pinkclinic_probe._app_wrap`` (the list the wrapper appends to is emptied
between batches, as the sampler does). Each round times ``--calls`` calls per condition
by the thread's CPU clock (``thread_time_ns``: time the core spent on other work is not counted),
in rotated order; reported: the median and IQR over the rounds of (wrapped - bare) per call.
Then the sampler's side: the CPU time (``thread_time``) of one ``flush`` of 20,000
requests over 51 paths into a ``requests-<PID>.jsonl`` in a temporary folder, per request.

    flock -x /tmp/pinkclinic-cpu.lock taskset -c 0 python bench/routes_wrapper.py

Writes bench/results/routes_wrapper.md and .json.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "pinkclinic" / "bootstrap"))

from pinkclinic_probe import _app_wrap, routes  # noqa: E402

SCOPE = {"type": "http", "method": "GET", "path": "/report/17", "query_string": b"token=x"}
ENVIRON = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/report/17",
           "QUERY_STRING": "token=x"}
START = {"type": "http.response.start", "status": 200, "headers": []}
BODY = {"type": "http.response.body", "body": b"ok"}


async def asgi_app(scope, receive, send):
    await send(START)
    await send(BODY)


async def _send(message):
    pass


async def _receive():
    return {}


def wsgi_app(environ, start_response):
    start_response("200 OK", [])
    return [b"ok"]


def _start_response(status, headers, exc_info=None):
    return None


def time_asgi(app, calls: int, sink: list) -> float:
    t0 = time.thread_time_ns()
    for _ in range(calls):
        coro = app(SCOPE, _receive, _send)
        try:
            coro.send(None)
        except StopIteration:
            pass
    dt = time.thread_time_ns() - t0
    sink.clear()
    return dt / calls


def time_wsgi(app, calls: int, sink: list) -> float:
    t0 = time.thread_time_ns()
    for _ in range(calls):
        app(ENVIRON, _start_response)
    dt = time.thread_time_ns() - t0
    sink.clear()
    return dt / calls


class _Probe:
    def __init__(self, folder: str):
        self.folder = folder

    def path(self, name: str) -> str:
        return str(Path(self.folder) / name)


def time_flush(rounds: int, n: int = 20_000) -> list[float]:
    """µs of CPU per request of the sampler's flush, one value per round."""
    out = []
    with tempfile.TemporaryDirectory() as folder:
        state = routes._Routes(_Probe(folder))
        paths = [f"/report/{i}" for i in range(50)] + ["/health"]
        now = time.perf_counter()
        for _ in range(rounds):
            for i in range(n):
                state.items.append(("GET", paths[i % 51], now + i * 1e-4, now + i * 1e-4 + 0.0123, 200))
            t0 = time.thread_time()
            state.flush()
            out.append((time.thread_time() - t0) / n * 1e6)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "routes_wrapper"))
    args = ap.parse_args()
    sink: list = []
    on = [True]
    conds = {"asgi bare": (time_asgi, asgi_app),
             "asgi wrapped": (time_asgi, _app_wrap.asgi(asgi_app, sink.append, on)),
             "wsgi bare": (time_wsgi, wsgi_app),
             "wsgi wrapped": (time_wsgi, _app_wrap.wsgi(wsgi_app, sink.append, on))}
    names = list(conds)
    per: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        for n in names[r % len(names):] + names[:r % len(names)]:
            fn, app = conds[n]
            per[n].append(fn(app, args.calls, sink))
    out = {"python": platform.python_version(), "rounds": args.rounds, "calls": args.calls,
           "argv": sys.argv[1:], "ns_per_call": {}, "extra_ns": {}}
    for n in names:
        out["ns_per_call"][n] = round(statistics.median(per[n]), 1)
    lines = ["# Feature routes: the wrapper's cost per request (bench/routes_wrapper.py)", "",
             f"Produced by `flock -x /tmp/pinkclinic-cpu.lock taskset -c 0 python bench/routes_wrapper.py"
             f"{' ' + ' '.join(sys.argv[1:]) if sys.argv[1:] else ''}` (Python {platform.python_version()}): "
             f"{args.rounds} rounds of {args.calls:,} calls per condition, rotated. The machine is "
             "shared (2 cores, other engineers' work): the rounds' spread says how much.", "",
             "| interface | bare ns/call | wrapped ns/call | extra ns/request (median) | IQR |",
             "|---|---|---|---|---|"]
    for kind in ("asgi", "wsgi"):
        extra = sorted(w - b for w, b in zip(per[f"{kind} wrapped"], per[f"{kind} bare"], strict=True))
        q = statistics.quantiles(extra, n=4)
        out["extra_ns"][kind] = {"median": round(statistics.median(extra), 1),
                                 "iqr": [round(q[0], 1), round(q[2], 1)]}
        lines.append(f"| {kind} | {out['ns_per_call'][f'{kind} bare']:.0f} | "
                     f"{out['ns_per_call'][f'{kind} wrapped']:.0f} | "
                     f"{statistics.median(extra):.0f} | {q[0]:.0f}–{q[2]:.0f} |")
    flush = sorted(time_flush(args.rounds))
    q = statistics.quantiles(flush, n=4)
    out["flush_us_per_request"] = {"median": round(statistics.median(flush), 3),
                                   "iqr": [round(q[0], 3), round(q[2], 3)]}
    lines += ["", f"The sampler's flush (off the request path, on the probe's thread, but holding "
              f"the GIL): {statistics.median(flush):.2f} µs of CPU per request (IQR {q[0]:.2f}–{q[2]:.2f})."]
    lines += ["", "Extra per request: the wrapped call minus the bare one, paired within a round. "
              "The ASGI call is driven without an event loop (one `send(None)` runs it to the end), "
              "so the figures are the wrapper's Python work alone."]
    Path(args.out + ".json").write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")
    Path(args.out + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
