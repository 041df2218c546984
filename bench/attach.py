"""What attaching the probe to a live server costs it: attach time per process, p99
latency while the probe is injected against the seconds before, and CPU per request
after the probe left against before it came.

A stdlib asyncio HTTP server (tests/session/apps/loop_server.py) pinned to core 0; this
process pinned to core 1 drives a fixed rate (-R) over keep-alive connections and times
every request. Each round, on the same server: BEFORE s of load, the probe injected
(pinkclinic.session.probe_attach.InjectedProbe, as doctor --pid does) and kept for
ATTACHED s, removed, AFTER s more. CPU per request is the server's utime+stime over a
window divided by the requests answered in it. Medians and IQRs over the rounds.

    flock -x /tmp/pinkclinic-cpu.lock python bench/attach.py [--rounds 7] [--rate 400]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pinkclinic.recording import Recording  # noqa: E402
from pinkclinic.session.probe_attach import InjectedProbe  # noqa: E402
from tests.helpers import free_port, wait_port  # noqa: E402

APP = ROOT / "tests/session/apps/loop_server.py"
CLK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


class Driver(threading.Thread):
    """Fixed-rate load on its own asyncio loop: ``samples`` holds (send time, latency s)."""

    def __init__(self, port: int, rate: float, conns: int = 4):
        super().__init__(daemon=True)
        self.port, self.rate, self.conns = port, rate, conns
        self.samples: list[tuple[float, float]] = []
        self.errors = 0
        self.halt = threading.Event()

    def run(self) -> None:
        asyncio.run(self._main())

    async def _conn(self, start: float, k: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        period, i = self.conns / self.rate, 0
        while not self.halt.is_set():
            due = start + (k + i * self.conns) / self.rate
            i += 1
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            t0 = time.perf_counter()
            try:
                writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                await reader.readuntil(b"\r\n\r\n")
                await reader.readexactly(2)
            except (OSError, asyncio.IncompleteReadError):
                self.errors += 1
                return
            self.samples.append((time.time() - (time.perf_counter() - t0), time.perf_counter() - t0))
        del period
        writer.close()

    async def _main(self) -> None:
        start = time.perf_counter()
        await asyncio.gather(*(self._conn(start, k) for k in range(self.conns)))

    def count(self, a: float, b: float) -> int:
        return sum(1 for t, _ in self.samples if a <= t < b)

    def p99(self, a: float, b: float) -> float | None:
        lat = sorted(lat for t, lat in self.samples if a <= t < b)
        return lat[int(len(lat) * 0.99)] * 1000 if lat else None


def window_cpu(pid: int, driver: Driver, secs: float) -> float:
    """Server CPU ms per request over the next ``secs`` seconds."""
    c0, t0 = cpu_s(pid), time.time()
    time.sleep(secs)
    c1, t1 = cpu_s(pid), time.time()
    n = driver.count(t0, t1)
    return (c1 - c0) * 1000 / n if n else float("nan")


def med_iqr(xs: list[float]) -> dict:
    xs = sorted(x for x in xs if x == x)
    if not xs:
        return {"median": None, "iqr": None, "max": None, "n": 0}
    q = statistics.quantiles(xs, n=4) if len(xs) > 1 else [xs[0]] * 3
    return {"median": round(statistics.median(xs), 4), "iqr": round(q[2] - q[0], 4),
            "max": round(xs[-1], 4), "n": len(xs)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--rate", type=float, default=400)
    ap.add_argument("--before", type=float, default=3.0)
    ap.add_argument("--attached", type=float, default=2.0)
    ap.add_argument("--after", type=float, default=3.0)
    args = ap.parse_args()
    os.sched_setaffinity(0, {1})
    port = free_port()
    server = subprocess.Popen(["taskset", "-c", "0", sys.executable, str(APP), str(port)])
    rows = []
    try:
        wait_port(port, 15, server)
        driver = Driver(port, args.rate)
        driver.start()
        time.sleep(1.0)
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(args.rounds):
                before = window_cpu(server.pid, driver, args.before)
                rec = Recording.create(tmp, f"r{i}", "doctor")
                probe = InjectedProbe(["loop", "gc", "tasks", "threads"], {"block_ms": 30})
                t_inject = time.time()
                t0 = time.perf_counter()
                probe.start(rec, SimpleNamespace(pid=server.pid))
                attach_s = time.perf_counter() - t0
                time.sleep(args.attached)
                t0 = time.perf_counter()
                probe.stop(rec)
                detach_s = time.perf_counter() - t0
                after = window_cpu(server.pid, driver, args.after)
                rows.append({
                    "attached": probe.outcomes, "attach_s": attach_s, "detach_s": detach_s,
                    "cpu_ms_per_req_before": before, "cpu_ms_per_req_after": after,
                    "p99_ms_before": driver.p99(t_inject - args.before, t_inject),
                    "p99_ms_injection": driver.p99(t_inject, t_inject + 1.0),
                    "p99_ms_attached": driver.p99(t_inject, t_inject + args.attached)})
                print(json.dumps(rows[-1], sort_keys=True), flush=True)
        driver.halt.set()
        driver.join(10)
    finally:
        server.kill()
        server.wait()
    keys = ["attach_s", "detach_s", "cpu_ms_per_req_before", "cpu_ms_per_req_after",
            "p99_ms_before", "p99_ms_injection", "p99_ms_attached"]
    summary = {k: med_iqr([r[k] for r in rows if r[k] is not None]) for k in keys}
    result = {"schema_version": 1, "rounds": rows, "summary": summary, "errors": driver.errors,
              "rate": args.rate, "loadavg": os.getloadavg(), "python": platform.python_version(),
              "command": "python bench/attach.py " + " ".join(sys.argv[1:])}
    out = ROOT / "bench/results/attach"
    out.with_suffix(".json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    lines = ["# Attaching the probe to a live server (bench/attach.py)", "",
             f"`{result['command']}` — {args.rounds} rounds at {args.rate:g} req/s, server "
             f"(asyncio, CPython {result['python']}) on core 0, load on core 1; load average "
             f"at the end {result['loadavg'][0]:.2f}; request errors: {driver.errors}.", "",
             "| figure | median | IQR | max |", "| --- | --- | --- | --- |"]
    for k in keys:
        s = summary[k]
        lines.append(f"| {k} | {s['median']} | {s['iqr']} | {s['max']} |")
    if result["loadavg"][0] > 2:
        lines += ["", "The machine was shared with other developers' test runs (load average "
                  "above 2 on 2 cores): latency figures carry their noise; rerun on a quiet "
                  "machine for the p99 comparison."]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
