"""What the per-request trace (``LoadSpec.trace``, doctor's per-route table) costs the load generator.

    flock -x /tmp/pinkclinic-cpu.lock python bench/loadgen_trace.py [--rounds 5] [--duration 5]

``samples/hello_asyncio.py`` pinned to core 0; the load generator (``run_load``, in its
own process, no worker) pinned to core 1, ``-c 50`` and a two-step ``--requests``
sequence (``/report/1``, ``/health``), trace off and on in alternating order, each round
a fresh process. Reported: the generator's req/s and CPU µs per request (user + system
of the whole process, start-up included), medians over the rounds and the median of the
per-round ratios on/off. Writes bench/results/loadgen_trace.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"

CHILD = r"""
import json, resource, sys
from pinkclinic.load import run_load
from pinkclinic.load.core.spec import LoadSpec, RequestTemplate
port, dur, trace = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "on"
spec = LoadSpec(url=f"http://127.0.0.1:{port}/", connections=50, duration=dur, workers=0, trace=trace,
                requests=[RequestTemplate("GET", "/report/1"), RequestTemplate("GET", "/health")])
r = run_load(spec)
ru = resource.getrusage(resource.RUSAGE_SELF)
traced = 0 if r.trace is None else len(r.trace) // 4
print(json.dumps({"rps": r.rps, "requests": r.requests, "traced": traced,
                  "cpu_us_per_req": (ru.ru_utime + ru.ru_stime) * 1e6 / max(1, r.requests)}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one(port: int, duration: float, mode: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(["taskset", "-c", "1", sys.executable, "-c", CHILD, str(port), str(duration), mode],
                         capture_output=True, text=True, env=env, check=True, timeout=duration + 60)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=float, default=5.0)
    a = ap.parse_args()
    port = free_port()
    srv = subprocess.Popen(["taskset", "-c", "0", sys.executable, str(ROOT / "samples" / "hello_asyncio.py"),
                            str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        runs: dict[str, list[dict]] = {"off": [], "on": []}
        for i in range(a.rounds):
            for mode in (("off", "on") if i % 2 == 0 else ("on", "off")):
                runs[mode].append(one(port, a.duration, mode))
    finally:
        srv.terminate()
        srv.wait(5)
    med = {m: {k: statistics.median(r[k] for r in rs) for k in ("rps", "cpu_us_per_req")}
           for m, rs in runs.items()}
    spread = {m: {k: [min(r[k] for r in rs), max(r[k] for r in rs)] for k in ("rps", "cpu_us_per_req")}
              for m, rs in runs.items()}
    ratio = {k: statistics.median(on[k] / off[k] for on, off in zip(runs["on"], runs["off"], strict=True))
             for k in ("rps", "cpu_us_per_req")}
    assert all(r["traced"] == r["requests"] for r in runs["on"]), "a traced run missed requests"
    out = {"rounds": a.rounds, "duration_s": a.duration, "python": platform.python_version(),
           "date": time.strftime("%Y-%m-%d"), "load": os.getloadavg()[0], "median": med,
           "min_max": spread, "ratio_on_off": ratio, "runs": runs}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "loadgen_trace.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    lines = ["# Load generator with and without the per-request trace (bench/loadgen_trace.py)", "",
             f"{a.rounds} rounds of {a.duration:g} s, `-c 50`, a two-step sequence, against "
             f"`samples/hello_asyncio.py` (core 0), generator on core 1, Python {out['python']}, "
             f"{out['date']}, load average {out['load']:.1f} at the end (a shared 2-core machine: noisy).", "",
             "| trace | req/s median (min–max) | CPU µs/request median (min–max) |", "|---|---|---|"]
    for m in ("off", "on"):
        lines.append(f"| {m} | {med[m]['rps']:,.0f} ({spread[m]['rps'][0]:,.0f}–{spread[m]['rps'][1]:,.0f}) | "
                     f"{med[m]['cpu_us_per_req']:.1f} ({spread[m]['cpu_us_per_req'][0]:.1f}–"
                     f"{spread[m]['cpu_us_per_req'][1]:.1f}) |")
    lines += ["", f"Median per-round ratio on/off: req/s {ratio['rps']:.3f}, CPU per request "
              f"{ratio['cpu_us_per_req']:.3f}."]
    (RESULTS / "loadgen_trace.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
