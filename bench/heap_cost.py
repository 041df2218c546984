"""Figures for `pinkclinic heap`: memray's throughput cost, capture size, analysis cost.

    flock -x /tmp/pinkclinic-cpu.lock python bench/heap_cost.py [throughput|capture|scale|thresholds|all]

Everything is measured as `pinkclinic heap` records it: memray's tracker started by
pinkclinic's in-process probe (``pinkclinic/bootstrap/pinkclinic_probe/memray.py``:
``memray.Tracker`` on a ``FileDestination``, which lz4-compresses the capture when the
tracker exits), not `memray run --no-compress`.

* throughput - a starlette hello-world on uvicorn, server pinned to core 0, wrk to
  core 1: bare, vs under the probe with memray (default and --native), each launched
  with the same environment pinkclinic heap gives its target; rounds alternated; medians.
* capture    - `pinkclinic heap --collect-only` (target on core 0, pinkclinic and its
  load generator on core 1) on known_rate.py (KEEP_BYTES=4000) for 15 s and 60 s and
  lru_cache.py for 60 s: capture size, analysis wall time and peak RSS of a fresh
  analysing process, allocations alive at the peak, and the bytes/request reported.
* scale      - synthetic captures written by the same Tracker, with N allocations alive
  at the end (N = 100k ... 1.6M) and with the same total spread over 4 captures (4
  gunicorn workers): analysis peak RSS against N. memray's reader keeps every live
  allocation in memory while it reads, so this is the figure that grows.
* thresholds - every heap sample, 3 runs of 3 s as in the tests: the shape statistics
  of its largest growing site, which the thresholds in pinkclinic/heap/suspects.py
  were set from.

Results go to bench/results/heap_<part>.md.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pinkclinic.target import probe_env  # noqa: E402
from tests.heap.harness import HEAP_SAMPLES, capture, stop  # noqa: E402
from tests.helpers import free_port, stop_group, wait_port  # noqa: E402

RESULTS = ROOT / "bench" / "results"
HELLO = '''
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
async def hello(request):
    return JSONResponse({"hello": "world"})
app = Starlette(routes=[Route("/", hello)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
'''
ROUNDS, WRK_S = 5, 8
MODES = {"bare": None, "memray": False, "memray --native": True}  # None: no memray


def _header(title: str) -> list[str]:
    import memray
    import uvicorn
    return [f"# {title}", "",
            f"Measured {datetime.date.today()} on {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, memray {memray.__version__}, "
            f"uvicorn {uvicorn.__version__}. Command: `flock -x /tmp/pinkclinic-cpu.lock "
            f"python bench/heap_cost.py {sys.argv[1] if len(sys.argv) > 1 else 'all'}`. "
            f"Load average when this part started: {os.getloadavg()[0]:.2f} (other sessions "
            "share the machine; absolute figures are indicative, ratios within one run are not "
            "affected as much).", ""]


def _wrk(port: int, seconds: int) -> float:
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c50", f"-d{seconds}s",
                          f"http://127.0.0.1:{port}/"], capture_output=True, text=True,
                         check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def _hello_round(native: bool | None, tmp: Path) -> float:
    port = free_port()
    script = tmp / "hello.py"
    script.write_text(HELLO)
    env = dict(os.environ)
    if native is not None:  # what pinkclinic heap gives the target it launches
        env.update(probe_env(tmp, ["memray", "listen"], memray_native=native,
                             memray_follow_fork=True))
    proc = subprocess.Popen(["taskset", "-c", "0", sys.executable, str(script), str(port)],
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env)
    try:
        wait_port(port, 30, proc)
        _wrk(port, 1)  # warm-up
        return _wrk(port, WRK_S)
    finally:
        stop(proc)
        stop_group(proc)
        for f in [*tmp.glob("memray-*.bin*"), *tmp.glob("probe-*.jsonl")]:
            f.unlink()


def throughput() -> list[str]:
    rates: dict[str, list[float]] = {m: [] for m in MODES}
    with tempfile.TemporaryDirectory() as d:
        for _ in range(ROUNDS):
            for name, mode in MODES.items():  # alternate modes within every round
                rates[name].append(_hello_round(mode, Path(d)))
    bare = statistics.median(rates["bare"])
    lines = [*_header("memray's throughput cost on a uvicorn hello-world"),
        f"starlette JSON hello-world on uvicorn (uvloop, httptools), `taskset -c 0`; "
        f"`wrk -t1 -c50 -d{WRK_S}s` on `taskset -c 1` after a 1 s warm-up; {ROUNDS} rounds, "
        "the modes alternated within each round; memray started by pinkclinic's probe, with the "
        "environment `pinkclinic heap` gives a target it launches (probe features memray and "
        "listen; the capture compressed when the server exits).", "",
        "| mode | median req/s | vs bare | all rounds |", "|---|---|---|---|"]
    for name, rs in rates.items():
        med = statistics.median(rs)
        lines.append(f"| {name} | {med:,.0f} | {med / bare:.2f}x | "
                     f"{', '.join(f'{r:,.0f}' for r in rs)} |")
    return lines


ANALYSE = r'''
import json, resource, sys, time
from pinkclinic.heap.recording import analyse_recording
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
r = analyse_recording(sys.argv[1], write=False)
dt = time.perf_counter() - t
top = r["suspects"][0] if r["suspects"] else None
print(json.dumps({"seconds": dt, "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "base_kb": base, "bpr": top and top["bytes_per_request"],
                  "function": top and top["function"], "requests": r["window"]["requests"],
                  "capture_bytes": sum(c["bytes"] or 0 for c in r["captures"]),
                  "peak_count": r["peak"]["count"], "result_bytes": len(json.dumps(r))}))
'''


def _recorded(sample: str, seconds: int, tmp: Path, env: dict) -> Path:
    """``pinkclinic heap --collect-only``: the target on core 0, pinkclinic on core 1."""
    name = f"{Path(sample).stem}-{seconds}"
    subprocess.run(["taskset", "-c", "1", sys.executable, "-m", "pinkclinic", "heap",
                    "--collect-only", "--dest", str(tmp), "--name", name,
                    "--load", f"-c 10 -d {seconds} /visit?n=[<id>]", "--",
                    "taskset", "-c", "0", sys.executable, str(HEAP_SAMPLES / sample),
                    "--port", "0"],
                   check=True, cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                   stdout=subprocess.DEVNULL)
    return tmp / f"{name}.pinkclinic-heap"


def _analyse_fresh(args: list[str], code: str = ANALYSE) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                         text=True, check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout)


def capture_cost() -> list[str]:
    runs = [("known_rate.py", 15, {"KEEP_BYTES": "4000"}), ("known_rate.py", 60, {"KEEP_BYTES": "4000"}),
            ("lru_cache.py", 60, {})]
    lines = [*_header("Capture size and analysis cost"),
        "`pinkclinic heap --collect-only --load '-c 10 -d S /visit?n=[<id>]'` with the server on "
        "core 0 and pinkclinic (its load generator) on core 1; the capture is what the probe's "
        "tracker wrote (lz4-compressed on exit). Analysis in a fresh process: wall time of "
        "`analyse_recording` (peak stacks, leak suspects, series, diagnosis) and the process's "
        "peak RSS (ru_maxrss; the interpreter with pinkclinic imported is the baseline).", "",
        "| sample | load | requests served | capture | alive at the peak | analysis "
        "| peak RSS (baseline) | result JSON | reported |",
        "|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as d:
        for sample, secs, env in runs:
            rec = _recorded(sample, secs, Path(d), env)
            a = _analyse_fresh([str(rec)])
            rep = (f"`{a['function']}` {a['bpr']:,.0f} B/req" if a["function"] else "no leak") + \
                (f" (true {int(env['KEEP_BYTES']):,})" if env else "")
            lines.append(f"| {sample} {' '.join(f'{k}={v}' for k, v in env.items())} | {secs} s | "
                         f"{a['requests'] or 0:,} | {a['capture_bytes'] / 1e6:.1f} MB | "
                         f"{a['peak_count']:,} allocations | {a['seconds']:.2f} s | "
                         f"{a['rss_kb'] / 1024:.0f} MB ({a['base_kb'] / 1024:.0f} MB) | "
                         f"{a['result_bytes'] / 1e3:.0f} kB | {rep} |")
    return lines


MAKE = r'''
import sys, time, memray
out, n = sys.argv[1], int(sys.argv[2])
keep = []
tracker = memray.Tracker(destination=memray.FileDestination(out, overwrite=True))
tracker.__enter__()
for i in range(200):                      # ~2 s: about 200 memory snapshots
    for _ in range(n // 200):
        keep.append(bytearray(520))       # kept: above pymalloc's 512 B, one record each
        tmp = bytearray(600)              # churn: allocated and freed
        del tmp
    time.sleep(0.01)
tracker.__exit__(None, None, None)
'''
SCALE_ANALYSE = r'''
import json, resource, sys, time
from pinkclinic.heap import analyse
t = time.perf_counter()
r = analyse(sys.argv[1:])
print(json.dumps({"seconds": time.perf_counter() - t, "peak_count": r["peak"]["count"],
                  "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
'''
SCALE_N = (100_000, 200_000, 400_000, 800_000, 1_600_000)


def scale() -> list[str]:
    lines = [*_header("Analysis memory against live allocations"),
        "Synthetic captures written by `memray.Tracker` on a `FileDestination` (as the probe "
        "does): N allocations of 520 B kept alive, built over ~2 s with as many freed in "
        "between, analysed by `pinkclinic.heap.analyse` in a fresh process (peak RSS: "
        "ru_maxrss). The same N is then split over 4 captures analysed together, as for 4 "
        "gunicorn workers (the analysis opens one capture at a time).", "",
        "| alive at the end | captures | capture bytes | analysis | peak RSS | RSS above 100k's, per extra live allocation |",
        "|---|---|---|---|---|---|"]
    first = None
    with tempfile.TemporaryDirectory() as d:
        for n in SCALE_N:
            for parts in (1, 4):
                files = [str(Path(d) / f"s{n}-{parts}-{i}.bin") for i in range(parts)]
                for f in files:
                    subprocess.run([sys.executable, "-c", MAKE, f, str(n // parts)], check=True)
                a = _analyse_fresh(files, SCALE_ANALYSE)
                size = sum(Path(f).stat().st_size for f in files)
                if parts == 1 and first is None:
                    first = (n, a["rss_kb"])
                per = "" if first[0] == n else \
                    f"{(a['rss_kb'] - first[1]) * 1024 / (n - first[0]):.0f} B"
                lines.append(f"| {a['peak_count']:,} | {parts} | {size / 1e6:.2f} MB | "
                             f"{a['seconds']:.2f} s | {a['rss_kb'] / 1024:.0f} MB | {per} |")
                for f in files:
                    Path(f).unlink()
    return lines


THRESHOLD_SAMPLES = ["cache_leak.py", "list_leak.py", "known_rate.py", "small_objects_leak.py",
                     "lru_cache.py", "big_buffer.py"]


def thresholds() -> list[str]:
    from pinkclinic.heap import analyse
    from pinkclinic.heap.suspects import thresholds as current

    lines = [*_header("Shape statistics behind the leak thresholds"),
        "Each sample 3 times, 3 s of load as in the tests (unpinned, 2 connections). For each run, "
        "the largest growing site (suspect or not): growth over the window, bytes per request, "
        "R^2 against cumulative requests, and the late-slope ratio (slope over the last third "
        "of the requests / overall slope).", "", f"Thresholds in force: `{json.dumps(current())}`", "",
        "| sample | site | growth | B/request | R^2 | late ratio | verdict |", "|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as d:
        for sample in THRESHOLD_SAMPLES:
            for i in range(3):
                run_dir = Path(d) / f"{sample}-{i}"
                run_dir.mkdir()
                cap = capture(sample, run_dir, seconds=3.0)
                print(f"{sample} run {i}: exit {cap['returncode']}", file=sys.stderr)
                r = analyse(cap["files"], window=cap["window"], requests=cap["ticks"])
                rows = sorted(r["suspects"] + r["considered"], key=lambda s: -s["growth_bytes"])
                s = rows[0]
                verdict = "leak" if s in r["suspects"] else f"cleared: {s['reason']}"
                lines.append(f"| {sample} | `{s['function']}`:{s['line']} | "
                             f"{s['growth_bytes'] / 1e6:.2f} MB | {s['bytes_per_request']:,.1f} | "
                             f"{s['confidence']:.3f} | {s['late_ratio']:.2f} | {verdict} |")
    return lines + saturation_table()


def saturation_table() -> list[str]:
    """Where a bounded cache stops being distinguishable from a leak (pure arithmetic)."""
    from pinkclinic.analysis.stats import linear_fit
    from pinkclinic.heap.fit import late_ratio
    from pinkclinic.heap.suspects import MIN_LATE_RATIO, MIN_R2

    xs = [float(i) for i in range(120)]
    lines = ["", "A cache that fills at a steady rate and is full after a fraction f of the window "
             "(120 grid points, no noise), against the thresholds:", "",
             "| full after | R^2 | late ratio | flagged |", "|---|---|---|---|"]
    for f in (0.2, 0.4, 0.6, 0.7, 0.8, 0.85, 0.9):
        ys = [min(x, f * xs[-1]) for x in xs]
        fit = linear_fit(xs, ys)
        late = late_ratio(xs, ys, fit.slope)
        flagged = fit.r2 >= MIN_R2 and late >= MIN_LATE_RATIO
        lines.append(f"| {f:.0%} | {fit.r2:.3f} | {late:.2f} | {'yes' if flagged else 'no'} |")
    return lines


def main() -> None:
    part = sys.argv[1] if len(sys.argv) > 1 else "all"
    parts = {"throughput": throughput, "capture": capture_cost, "scale": scale,
             "thresholds": thresholds}
    for name, fn in parts.items():
        if part in (name, "all"):
            t = time.time()
            lines = fn()
            lines += ["", f"(took {time.time() - t:.0f} s)"]
            path = RESULTS / f"heap_{name}.md"
            path.write_text("\n".join(lines) + "\n")
            print(path.read_text())


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    main()
