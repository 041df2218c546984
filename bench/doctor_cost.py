"""What `pinkclinic doctor` costs: the server's throughput under its collectors, and the
time and size of the analysis and report for a 60 s recording.

    flock -x /tmp/pinkclinic-cpu.lock python bench/doctor_cost.py [--rounds 5] [--seconds 10]

1. Throughput. samples/hello_starlette.py (uvicorn) pinned to core 0, wrk -t1 -c50 pinned
   to core 1, in alternating rounds: bare, then under `pinkclinic doctor --on-port` (psutil
   sampler every 10 ms, py-spy at 100 Hz, the in-process probe). pinkclinic itself runs
   on core 1 beside wrk, so the server's core only carries the server and the probe.
   Reported: the median req/s of each, and the median of per-round ratios.
2. Analysis. One 60 s doctor recording (-c 20) of samples/loop_cpu_starlette.py, then
   analysis + HTML timed in-process three times (median), and the report's size.

Results go to bench/results/doctor_cost.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SERVER = [sys.executable, str(ROOT / "samples" / "hello_starlette.py")]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def wrk(port: int, seconds: int) -> float:
    out = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", "-c50", f"-d{seconds}s",
                          f"http://127.0.0.1:{port}/"], capture_output=True, text=True, check=True)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bare_round(seconds: int) -> float:
    port = free_port()
    srv = subprocess.Popen(["taskset", "-c", "0", *SERVER, str(port)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/"]).returncode:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.1)
        wrk(port, 1)  # warm-up, as doctor's run gets one below
        return wrk(port, seconds)
    finally:
        srv.terminate()
        srv.wait(10)


def doctor_round(seconds: int, dest: Path) -> float:
    load = (f"taskset -c 1 wrk -t1 -c50 -d1s http://127.0.0.1:$PORT/ >/dev/null; "
            f"taskset -c 1 wrk -t1 -c50 -d{seconds}s http://127.0.0.1:$PORT/")
    name = f"r{time.monotonic_ns()}"
    subprocess.run(["taskset", "-c", "1", sys.executable, "-m", "pinkclinic", "doctor",
                    "--dest", str(dest), "--name", name, "--collect-only", "--on-port", load,
                    "--", "taskset", "-c", "0", *SERVER, "0"],
                   capture_output=True, text=True, env=ENV, check=True, timeout=seconds + 120)
    log = (dest / f"{name}.pinkclinic-doctor" / "on-port.log").read_text()
    return float(re.findall(r"Requests/sec:\s+([\d.]+)", log)[-1])


def analysis(dest: Path) -> dict:
    subprocess.run([sys.executable, "-m", "pinkclinic", "doctor", "--dest", str(dest), "--name",
                    "sixty", "--collect-only", "--load", "-c 20 -d 60", "--",
                    sys.executable, str(ROOT / "samples" / "loop_cpu_starlette.py")],
                   capture_output=True, text=True, env={**ENV, "PORT": "0"}, check=True, timeout=300)
    rec_dir = dest / "sixty.pinkclinic-doctor"
    code = (
        "import sys, time, json\n"
        "from pinkclinic.recording import Recording\n"
        "from pinkclinic.commands.doctor import analyse_and_render\n"
        "t = time.perf_counter()\n"
        "d, report = analyse_and_render(Recording.open(sys.argv[1]))\n"
        "print(json.dumps({'s': time.perf_counter() - t, 'bytes': report.stat().st_size,"
        " 'verdict': d['verdict']}))\n")
    runs = [json.loads(subprocess.run([sys.executable, "-c", code, str(rec_dir)], capture_output=True,
                                      text=True, env=ENV, check=True).stdout) for _ in range(3)]
    files = {p.name: p.stat().st_size for p in rec_dir.iterdir()}
    return {"seconds_median": round(statistics.median(r["s"] for r in runs), 3),
            "seconds_runs": [round(r["s"], 3) for r in runs], "html_bytes": runs[0]["bytes"],
            "verdict": runs[0]["verdict"], "recording_bytes": sum(files.values()), "files": files}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()
    for tool in ("wrk", "taskset", "curl"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is missing: run bench/setup.sh")
    load_avg = os.getloadavg()[0]
    dest = Path(tempfile.mkdtemp(prefix="pinkclinic-bench-"))
    bare, doctor, ratios = [], [], []
    try:
        for i in range(args.rounds):
            b = bare_round(args.seconds)
            d = doctor_round(args.seconds, dest)
            bare.append(b)
            doctor.append(d)
            ratios.append(d / b)
            print(f"round {i + 1}: bare {b:,.0f} req/s, doctor {d:,.0f} req/s, ratio {d / b:.3f}",
                  flush=True)
        ana = analysis(dest)
    finally:
        shutil.rmtree(dest, ignore_errors=True)
    result = {"schema_version": 1, "date": time.strftime("%Y-%m-%d %H:%M"), "load_avg_at_start": load_avg,
              "rounds": args.rounds, "seconds": args.seconds,
              "throughput": {"bare_rps": bare, "doctor_rps": doctor,
                             "bare_median": statistics.median(bare),
                             "doctor_median": statistics.median(doctor),
                             "ratio_median": round(statistics.median(ratios), 3),
                             "ratios": [round(r, 3) for r in ratios]},
              "analysis_60s": ana}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "doctor_cost.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    t = result["throughput"]
    md = f"""# doctor's cost (bench/doctor_cost.py, {result['date']}, load average {load_avg:.2f} at start)

Command: `flock -x /tmp/pinkclinic-cpu.lock python bench/doctor_cost.py --rounds {args.rounds} --seconds {args.seconds}`

## Throughput under doctor's collectors
samples/hello_starlette.py on uvicorn pinned to core 0; `wrk -t1 -c50 -d{args.seconds}s` pinned to core 1;
{args.rounds} alternating rounds, bare then under `pinkclinic doctor --on-port` (psutil sampler at
10 ms, py-spy at 100 Hz non-blocking, the in-process probe).

| | median req/s | per-round req/s |
|---|---|---|
| bare | {t['bare_median']:,.0f} | {', '.join(f'{v:,.0f}' for v in bare)} |
| under doctor | {t['doctor_median']:,.0f} | {', '.join(f'{v:,.0f}' for v in doctor)} |

Median of per-round ratios (doctor / bare): **{t['ratio_median']:.3f}** (rounds: {', '.join(f'{r:.3f}' for r in t['ratios'])}). Target: >= 0.95.

## Analysis and report for a 60 s recording
`pinkclinic doctor --load "-c 20 -d 60" --collect-only -- python samples/loop_cpu_starlette.py`,
then analysis + HTML in-process, 3 times.

| | value | target |
|---|---|---|
| analysis + HTML, median | {ana['seconds_median']:.2f} s (runs: {', '.join(map(str, ana['seconds_runs']))}) | <= 3 s |
| report size | {ana['html_bytes'] / 1e6:.2f} MB | <= 2 MB |
| recording size | {ana['recording_bytes'] / 1e6:.1f} MB | |
| verdict | {ana['verdict']} | loop-cpu |
"""
    (RESULTS / "doctor_cost.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
