"""Cost of the in-process probe: throughput, idle CPU and idle event-loop lag.

A uvicorn hello-world (raw ASGI, uvloop, httptools) pinned to core 0, with and without
the probe on PYTHONPATH; wrk pinned to core 1. Every round runs each condition once
(bare, probe, probe with a 20 ms tick), in an order rotated round by round; the machine
is shared and throughput drifts a lot between rounds, so each probe run is compared
with the bare run of its own round and the median of those paired ratios is the figure
(the ratio of medians is shown too). Per run, before the load: the server's CPU time
over an idle window and, with the probe, the idle lag p50 from its own ``lag`` records.

    flock -x /tmp/pinkclinic-cpu.lock python bench/probe_overhead.py

Writes bench/results/probe_overhead.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = ROOT / "pinkclinic" / "bootstrap"
RESULTS = ROOT / "bench" / "results"
FEATURES = ["loop", "gc", "tasks", "threads", "listen"]

APP = '''
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello, world"})
'''

CONDITIONS = {"bare": None, "probe": {}, "probe-tick20": {"tick_ms": 20}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"server did not listen on {port}")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds per thread name class: the probe's threads (OS name ``pkprobe-*``) and
    the rest of the server."""
    out = {"probe": 0.0, "server": 0.0}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
        except OSError:
            continue
        out["probe" if name.startswith("pkprobe") else "server"] += ns / 1e9
    return out


def wrk(port: int, seconds: int, connections: int) -> dict:
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
                          "--latency", f"http://127.0.0.1:{port}/"],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    return {"rps": rps, "requests": requests, "p50": lat.get("50"), "p99": lat.get("99")}


def lag_p50s(rec: Path, t0: float, t1: float) -> list[float]:
    out = []
    for path in rec.glob("probe-*.jsonl"):
        for line in path.read_text().splitlines():
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("type") == "lag" and t0 <= r["t"] <= t1:
                out.append(r["p50_ms"])
    return out


def one_round(tmp: Path, condition: str, args) -> dict:
    options = CONDITIONS[condition]
    env = dict(os.environ)
    env.pop("PINKCLINIC_PROBE", None)
    rec = Path(tempfile.mkdtemp(dir=tmp, prefix=condition + "-"))
    if options is not None:
        env["PYTHONPATH"] = str(BOOTSTRAP)
        env["PINKCLINIC_PROBE"] = json.dumps({"dir": str(rec), "features": FEATURES, **options})
    port = free_port()
    proc = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-m", "uvicorn", "--app-dir",
                             str(tmp), "--port", str(port), "--log-level", "warning",
                             "--no-access-log", "hello:app"],
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        wait_port(port)
        time.sleep(1.0)  # startup work done
        c0, t0 = cpu_seconds(proc.pid), time.time()
        time.sleep(args.idle)
        c1, t1 = cpu_seconds(proc.pid), time.time()
        wrk(port, 1, args.connections)  # warm-up
        c2, th0 = cpu_seconds(proc.pid), thread_cpu(proc.pid)
        result = wrk(port, args.duration, args.connections)
        th1 = thread_cpu(proc.pid)
        result["cpu_us_per_request"] = 1e6 * (cpu_seconds(proc.pid) - c2) / result["requests"]
        used = {k: th1[k] - th0[k] for k in th0}
        result["probe_threads_share_pct"] = 100.0 * used["probe"] / max(1e-9, sum(used.values()))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    result["idle_cpu_pct"] = 100.0 * (c1 - c0) / (t1 - t0)
    lags = lag_p50s(rec, t0, t1)
    result["idle_lag_p50_ms"] = statistics.median(lags) if lags else None
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--idle", type=float, default=3.0)
    ap.add_argument("--conditions", default=",".join(CONDITIONS),
                    help="comma-separated subset of " + ", ".join(CONDITIONS))
    args = ap.parse_args()
    names = [c for c in args.conditions.split(",") if c]
    if "bare" not in names or not set(names) <= set(CONDITIONS):
        sys.exit(f"probe_overhead: --conditions must include bare, from {', '.join(CONDITIONS)}")
    if not shutil.which("wrk") or not shutil.which("taskset"):
        sys.exit("probe_overhead: needs wrk and taskset (apt-get install -y wrk util-linux)")
    runs: dict[str, list[dict]] = {c: [] for c in names}
    with tempfile.TemporaryDirectory(prefix="pinkclinic-probe-bench-") as tmpdir:
        tmp = Path(tmpdir)
        (tmp / "hello.py").write_text(APP)
        for i in range(args.rounds):
            for condition in names[i % len(names):] + names[:i % len(names)]:
                r = one_round(tmp, condition, args)
                runs[condition].append(r)
                print(f"round {i + 1} {condition:13s} {r['rps']:9.0f} req/s  idle cpu "
                      f"{r['idle_cpu_pct']:.2f}%  idle lag p50 {r['idle_lag_p50_ms']}", flush=True)
    args.argv = " ".join(sys.argv[1:])
    write_results(runs, args)


def write_results(runs: dict[str, list[dict]], args) -> None:
    bare = statistics.median(r["rps"] for r in runs["bare"])
    summary = {}
    for condition, rs in runs.items():
        lags = [r["idle_lag_p50_ms"] for r in rs if r["idle_lag_p50_ms"] is not None]
        paired = sorted(r["rps"] / b["rps"] for r, b in zip(rs, runs["bare"], strict=True))
        cost = sorted(r["cpu_us_per_request"] / b["cpu_us_per_request"]
                      for r, b in zip(rs, runs["bare"], strict=True))
        summary[condition] = {
            "rps_median": statistics.median(r["rps"] for r in rs),
            "ratio_of_medians": statistics.median(r["rps"] for r in rs) / bare,
            "paired_ratio_median": statistics.median(paired),
            "paired_ratio_range": [paired[0], paired[-1]],
            "cpu_us_per_request_median": statistics.median(r["cpu_us_per_request"] for r in rs),
            "cpu_per_request_ratio_median": statistics.median(cost),
            "cpu_per_request_ratio_range": [cost[0], cost[-1]],
            "probe_threads_share_pct_median": statistics.median(
                r["probe_threads_share_pct"] for r in rs),
            "idle_cpu_pct_median": statistics.median(r["idle_cpu_pct"] for r in rs),
            "idle_lag_p50_ms_median": statistics.median(lags) if lags else None,
            "p50_latency": [r["p50"] for r in rs], "p99_latency": [r["p99"] for r in rs],
            "rps": [r["rps"] for r in rs]}
    meta = {"python": platform.python_version(), "cpus": os.cpu_count(),
            "rounds": args.rounds, "duration_s": args.duration, "connections": args.connections,
            "idle_s": args.idle, "features": FEATURES, "date": time.strftime("%Y-%m-%d")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "probe_overhead.json").write_text(
        json.dumps({"meta": meta, "summary": summary}, indent=1, sort_keys=True) + "\n")
    lines = ["# Probe overhead", "",
             f"    flock -x /tmp/pinkclinic-cpu.lock python bench/probe_overhead.py {args.argv}", "",
             "uvicorn hello-world (raw ASGI, uvloop) on core 0, `wrk -t1 "
             f"-c{args.connections} -d{args.duration}s` on core 1; {args.rounds} alternating "
             f"rounds; probe features {', '.join(FEATURES)}. Idle figures over {args.idle:g} s "
             "before each load. Python " + meta["python"] + ", " + meta["date"] + ".", "",
             "The machine is shared: req/s and CPU time per request drift by tens of percent "
             "from run to run, so each probe run is compared with the bare run of its own round "
             "and the median of those paired ratios is the throughput figure (its range shows "
             "the noise). The probe's own threads (loop watcher, sampler; OS name `pkprobe-*`) "
             "are measured directly: their share of the server's CPU time during the load. "
             "What they do not show is the loop thread's share of the work (running the ticks) "
             "and the GIL hand-offs.", "",
             "| condition | probe threads' share of CPU under load | "
             "CPU us/request (median) | CPU/request vs bare: median (range) "
             "| req/s (median) | req/s vs bare: median (range) | idle CPU % "
             "| idle lag p50 (ms) |",
             "|---|---|---|---|---|---|---|---|"]
    for condition, s in summary.items():
        lag = s["idle_lag_p50_ms_median"]
        lo, hi = s["paired_ratio_range"]
        clo, chi = s["cpu_per_request_ratio_range"]
        lines.append(f"| {condition} | {s['probe_threads_share_pct_median']:.2f}% | "
                     f"{s['cpu_us_per_request_median']:.1f} | "
                     f"{s['cpu_per_request_ratio_median']:.3f} ({clo:.2f}-{chi:.2f}) | "
                     f"{s['rps_median']:.0f} | {s['paired_ratio_median']:.3f} "
                     f"({lo:.2f}-{hi:.2f}) | {s['idle_cpu_pct_median']:.2f} | "
                     f"{'-' if lag is None else f'{lag:.3f}'} |")
    lines += ["", "Per-round req/s:", ""]
    for condition, s in summary.items():
        lines.append(f"- {condition}: " + ", ".join(f"{x:.0f}" for x in s["rps"]))
    (RESULTS / "probe_overhead.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
