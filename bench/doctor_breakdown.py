"""Where doctor's throughput cost comes from, one collector at a time, against controls.

    flock -x /tmp/pinkclinic-cpu.lock python bench/doctor_breakdown.py [--rounds 6] [--seconds 4]

samples/hello_starlette.py (uvicorn) pinned to core 0, ``wrk -t1 -c50`` pinned to core 1.
Each round runs every condition once, in an order rotated round by round; each
condition's figure is the median of its per-round ratios to the bare run of the same
round. Conditions:

* ``probe``: the in-process probe with doctor's features (loop, gc, tasks, threads, listen);
* ``sampler``: pinkclinic's psutil sampler (10 ms, thread states) in a process on core 1;
* ``py-spy``: py-spy at 100 Hz as doctor runs it (``--idle --nonblocking``), on core 1;
* ``doctor``: the whole of ``pinkclinic doctor --on-port`` (pinkclinic on core 1);
* controls that are none of pinkclinic's code: a process on core 1 that only wakes up
  100 times a second and spins 150 µs (or 1,000 times a second, 15 µs), and the first of
  these on core 0 beside the server. They show what *any* periodic out-of-process
  collector costs this server on this machine.

Writes bench/results/doctor_breakdown.md and .json.
"""
from __future__ import annotations

import argparse
import json
import os
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
from tests.helpers import free_port, wait_port  # noqa: E402

RESULTS = ROOT / "bench" / "results"
SERVER = [sys.executable, str(ROOT / "samples" / "hello_starlette.py")]
SPIN = ("import time\nend = time.time() + {secs}\nwhile time.time() < end:\n"
        "    t = time.perf_counter()\n    while time.perf_counter() - t < {us}e-6:\n        pass\n"
        "    time.sleep({period})\n")
SAMPLER = ("import sys, time\nsys.path.insert(0, {root!r})\n"
           "from pinkclinic.collect.psutil_sampler import ProcessSampler\n"
           "s = ProcessSampler({pid}, {out!r}, interval=0.010, thread_states={states!r}).start()\n"
           "time.sleep({secs})\ns.stop()\n")
CONDITIONS = ["bare", "probe", "sampler", "py-spy", "doctor",
              "control: spin 150 us at 100 Hz, core 1", "control: spin 15 us at 1000 Hz, core 1",
              "control: spin 150 us at 100 Hz, core 0"]


def rps(wrk_output: str) -> float:
    return float(re.search(r"Requests/sec:\s+([\d.]+)", wrk_output).group(1))


def wrk_cmd(port: int, secs: int) -> list[str]:
    return ["wrk", "-t1", "-c50", f"-d{secs}s", f"http://127.0.0.1:{port}/"]


def run_doctor(port: int, secs: int, tmp: str) -> float:
    out = Path(tmp, "wrk.txt")
    subprocess.run(["taskset", "-c", "1", sys.executable, "-m", "pinkclinic", "doctor",
                    "--dest", tmp, "--port", str(port), "--on-port",
                    f"{' '.join(wrk_cmd(port, secs))} > {out}", "--",
                    "taskset", "-c", "0", *SERVER, str(port)],
                   capture_output=True, text=True, cwd=ROOT, timeout=120)
    return rps(out.read_text())


def helper(cond: str, pid: int, secs: int, tmp: str) -> list[str] | None:
    if cond == "sampler":
        code = SAMPLER.format(root=str(ROOT), pid=pid, out=f"{tmp}/processes.jsonl",
                              states=f"{tmp}/threads.jsonl", secs=secs + 2)
        return ["taskset", "-c", "1", sys.executable, "-c", code]
    if cond == "py-spy":
        return ["taskset", "-c", "1", "py-spy", "record", "--pid", str(pid), "--threads",
                "--full-filenames", "--subprocesses", "--idle", "--nonblocking", "-r", "100",
                "-f", "speedscope", "-o", f"{tmp}/pyspy.json"]
    m = re.match(r"control: spin (\d+) us at (\d+) Hz, core (\d)", cond)
    if m:
        code = SPIN.format(secs=secs + 2, us=m[1], period=1 / int(m[2]))
        return ["taskset", "-c", m[3], sys.executable, "-c", code]
    return None


def one_run(cond: str, secs: int) -> float:
    tmp = tempfile.mkdtemp(prefix="pinkclinic-breakdown-")
    port = free_port()
    if cond == "doctor":
        return run_doctor(port, secs, tmp)
    env = {k: v for k, v in os.environ.items() if k != "PINKCLINIC_PROBE"}
    if cond == "probe":
        env["PYTHONPATH"] = str(ROOT / "pinkclinic" / "bootstrap")
        env["PINKCLINIC_PROBE"] = json.dumps(
            {"dir": tmp, "features": ["loop", "gc", "tasks", "threads", "listen"]})
    server = subprocess.Popen(["taskset", "-c", "0", *SERVER, str(port)], env=env,
                              start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    extra = None
    try:
        wait_port(port, 20.0, server)
        time.sleep(0.5)
        argv = helper(cond, server.pid, secs, tmp)
        if argv is not None:
            extra = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)
        out = subprocess.run(["taskset", "-c", "1", *wrk_cmd(port, secs)],
                             capture_output=True, text=True).stdout
        return rps(out)
    finally:
        if extra is not None:
            extra.send_signal(signal.SIGINT)
            try:
                extra.wait(15)
            except subprocess.TimeoutExpired:
                extra.kill()
                extra.wait()
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(15)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--seconds", type=int, default=4)
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    runs: dict[str, list[float]] = {c: [] for c in CONDITIONS}
    for r in range(args.rounds):
        order = CONDITIONS[r % len(CONDITIONS):] + CONDITIONS[:r % len(CONDITIONS)]
        for cond in order:
            runs[cond].append(one_run(cond, args.seconds))
        print(f"round {r + 1}: " + ", ".join(f"{c.split(':')[0]} {v[-1]:,.0f}"
                                             for c, v in runs.items()), flush=True)
    ratios = {c: [x / y for x, y in zip(v, runs["bare"], strict=True)] for c, v in runs.items()}
    res = {"schema_version": 1, "rounds": args.rounds, "seconds": args.seconds,
           "load_average_start": load0, "req_per_s": runs,
           "median_ratio": {c: statistics.median(v) for c, v in ratios.items()},
           "date": time.strftime("%Y-%m-%d %H:%M")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "doctor_breakdown.json").write_text(json.dumps(res, indent=1, sort_keys=True))
    lines = ["# Where doctor's throughput cost comes from (bench/doctor_breakdown.py)", "",
             f"Command: `flock -x /tmp/pinkclinic-cpu.lock python bench/doctor_breakdown.py "
             f"--rounds {args.rounds} --seconds {args.seconds}`, {res['date']}, load average "
             f"{load0:.2f} at start.", "",
             "samples/hello_starlette.py pinned to core 0, `wrk -t1 -c50` pinned to core 1; "
             "every condition once per round, order rotated; ratio = the median of per-round "
             "ratios to the bare run of the same round.", "",
             "| condition | median req/s | vs bare (median of rounds) | range |",
             "|---|---|---|---|"]
    for c in CONDITIONS:
        rs = ratios[c]
        lines.append(f"| {c} | {statistics.median(runs[c]):,.0f} | {statistics.median(rs):.3f} "
                     f"| {min(rs):.3f}–{max(rs):.3f} |")
    med = res["median_ratio"]
    control = med["control: spin 150 us at 100 Hz, core 1"]
    lines += ["", f"The controls run none of pinkclinic's code. A process on the load "
              f"generator's core that only wakes up 100 times a second costs this server "
              f"{1 - control:.1%}; the sampler costs {1 - med['sampler']:.1%} and py-spy "
              f"{1 - med['py-spy']:.1%}, so "
              + ("most of their cost is that of any 100 Hz process on the other core, not of "
                 "what they read." if min(med["sampler"], med["py-spy"]) >= control - 0.02
                 else "they cost more than a bare 100 Hz wake-up: what they read matters."),
              f"The whole of doctor: {1 - med['doctor']:.1%}.", ""]
    (RESULTS / "doctor_breakdown.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
