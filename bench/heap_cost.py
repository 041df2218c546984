"""Figures for `pinkclinic heap`: memray's throughput cost, capture size, analysis cost.

    flock -x /tmp/pinkclinic-cpu.lock python bench/heap_cost.py [throughput|capture|thresholds|all]

* throughput - a starlette hello-world on uvicorn, server pinned to core 0, wrk to
  core 1, bare vs under memray (default and --native), rounds alternated; medians.
* capture    - known_rate.py (KEEP_BYTES=4000) for 15 s and 60 s and lru_cache.py for
  60 s under memray with load: capture size, analysis wall time and peak RSS of the
  analysing process (a fresh one each time), and the bytes/request it reports.
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

from tests.heap.harness import HEAP_SAMPLES, capture, memray_cmd, stop  # noqa: E402
from tests.heap.loadclient import drive  # noqa: E402
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
    target = [str(script), str(port)]
    cmd = [sys.executable, *target] if native is None else \
        memray_cmd(tmp / "hello.bin", target, native=native)
    proc = subprocess.Popen(["taskset", "-c", "0", *cmd], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, 30, proc)
        _wrk(port, 1)  # warm-up
        return _wrk(port, WRK_S)
    finally:
        stop(proc)
        stop_group(proc)
        for f in tmp.glob("hello.bin*"):
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
        "the modes alternated within each round; memray as `memray run --no-compress` "
        "(what the probe's `memray.Tracker` does).", "",
        "| mode | median req/s | vs bare | all rounds |", "|---|---|---|---|"]
    for name, rs in rates.items():
        med = statistics.median(rs)
        lines.append(f"| {name} | {med:,.0f} | {med / bare:.2f}x | "
                     f"{', '.join(f'{r:,.0f}' for r in rs)} |")
    return lines


ANALYSE = r'''
import json, resource, sys, time
from pinkclinic.heap import analyse
spec = json.load(open(sys.argv[1]))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
r = analyse(spec["files"], window=spec["window"], requests=spec["ticks"])
dt = time.perf_counter() - t
top = r["suspects"][0] if r["suspects"] else None
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
# memray's own passes over the file, alone: open (high-water mark, snapshots),
# temporal records, high-water-mark records
import memray
passes = []
for f in spec["files"]:
    t = time.perf_counter(); rd = memray.FileReader(f, max_memory_records=3000)
    passes.append(time.perf_counter() - t)
    t = time.perf_counter(); [None for _ in rd.get_temporal_allocation_records(merge_threads=True)]
    passes.append(time.perf_counter() - t)
    t = time.perf_counter(); list(rd.get_high_watermark_allocation_records(merge_threads=True))
    passes.append(time.perf_counter() - t)
print(json.dumps({"seconds": dt, "rss_kb": rss, "memray_passes_s": passes,
                  "base_kb": base, "bpr": top and top["bytes_per_request"],
                  "function": top and top["function"], "result_bytes": len(json.dumps(r))}))
'''


def _pinned_capture(sample: str, seconds: float, tmp: Path, env: dict) -> dict:
    port = free_port()
    out = tmp / f"{Path(sample).stem}-{int(seconds)}.bin"
    proc = subprocess.Popen(["taskset", "-c", "0", *memray_cmd(out, [str(HEAP_SAMPLES / sample),
                                                                    "--port", str(port)])],
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, **env})
    mask = os.sched_getaffinity(0)
    try:
        wait_port(port, 30, proc)
        os.sched_setaffinity(0, {1})
        load = drive(port, seconds, connections=2)
    finally:
        os.sched_setaffinity(0, mask)
        stop(proc)
        stop_group(proc)
    return {"files": [str(out)], **load}


def _analyse_fresh(spec: dict, tmp: Path) -> dict:
    spec_file = tmp / "spec.json"
    spec_file.write_text(json.dumps(spec))
    out = subprocess.run([sys.executable, "-c", ANALYSE, str(spec_file)], capture_output=True,
                         text=True, check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout)


def capture_cost() -> list[str]:
    runs = [("known_rate.py", 15, {"KEEP_BYTES": "4000"}), ("known_rate.py", 60, {"KEEP_BYTES": "4000"}),
            ("lru_cache.py", 60, {})]
    lines = [*_header("Capture size and analysis cost"),
        "Server under `memray run --no-compress` on core 0, the tests' keep-alive Python client "
        "(2 connections, distinct URLs) on core 1. Analysis in a fresh process: wall time of "
        "`pinkclinic.heap.analyse` (peak stacks, leak suspects, series, diagnosis) and the "
        "process's peak RSS (ru_maxrss; the interpreter with memray imported is the baseline).", "",
        "| sample | load | requests | capture | analysis | memray's 3 passes alone | peak RSS (baseline) "
        "| result JSON | reported |",
        "|---|---|---|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for sample, secs, env in runs:
            spec = _pinned_capture(sample, secs, tmp, env)
            size = sum(Path(f).stat().st_size for f in spec["files"])
            a = _analyse_fresh(spec, tmp)
            rep = (f"`{a['function']}` {a['bpr']:,.0f} B/req" if a["function"] else "no leak") + \
                (f" (true {int(env['KEEP_BYTES']):,})" if env else "")
            lines.append(f"| {sample} {' '.join(f'{k}={v}' for k, v in env.items())} | {secs} s | "
                         f"{spec['requests']:,} | {size / 1e6:.1f} MB | {a['seconds']:.2f} s | "
                         f"{' + '.join(f'{p:.2f}' for p in a['memray_passes_s'])} s | "
                         f"{a['rss_kb'] / 1024:.0f} MB ({a['base_kb'] / 1024:.0f} MB) | "
                         f"{a['result_bytes'] / 1e3:.0f} kB | {rep} |")
            for f in spec["files"]:
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
    from pinkclinic.heap.fit import late_ratio, linear_fit
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
    parts = {"throughput": throughput, "capture": capture_cost, "thresholds": thresholds}
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
