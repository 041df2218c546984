"""What attaching the probe to a live server costs it: attach time per process, p99
latency while the probe is injected against the seconds before, CPU per request while it
is in (doctor's own probe: its features and options) and after it left, against before
it came, all in one server process.

A stdlib asyncio HTTP server (tests/session/apps/loop_server.py) pinned to core 0; this
process pinned to core 1 drives a fixed rate (-R) over keep-alive connections and times
every request. Each round, on the same server: BEFORE s of load, the probe injected
(pinkclinic.session.probe_attach.InjectedProbe, as doctor --pid does) and kept for
ATTACHED s, removed, AFTER s more. CPU per request is the server's CPU clock over a
window divided by the requests answered in it. Medians and IQRs over the rounds.

The probe's cost is measured on the same process, bare and probed: fresh processes
differ by a few percent by where their objects land, which buries a 3% cost
(bench/cost.py). Each round: BEFORE s bare; BEFORE s with the control (a process on the
server's core that only wakes 100 times a second: any 100 Hz wake-up's machine-level
price); BEFORE s bare; the probe injected, SETTLE s, ATTACHED s measured; removed; AFTER s
bare. ``ratio_control`` is the control window over the mean of the bare ones on each side,
``ratio_attached`` the probed window over the bare ones on each side of it.

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

from bench.cost import CONTROL  # noqa: E402
from pinkclinic.commands.doctor import ATTACH_FEATURES, PROBE_OPTIONS  # noqa: E402
from pinkclinic.procs import process_cpu_s  # noqa: E402
from pinkclinic.recording import Recording  # noqa: E402
from pinkclinic.session.probe_attach import InjectedProbe  # noqa: E402
from tests.helpers import free_port, wait_port  # noqa: E402

APP = ROOT / "tests/session/apps/loop_server.py"


def cpu_s(pid: int) -> float:
    """The process's CPU clock, every thread (ended ones too), to the nanosecond: 10 ms
    ticks (/proc/PID/stat) are 3-4% of a 3 s window at 1,000 req/s."""
    return process_cpu_s(pid)


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
    ap.add_argument("--out", default=str(ROOT / "bench/results/attach"))
    ap.add_argument("--features", default=",".join(ATTACH_FEATURES),
                    help="the probe's features (default: doctor --pid's)")
    ap.add_argument("--options", default=json.dumps(PROBE_OPTIONS, sort_keys=True),
                    help="the probe's options, JSON (default: doctor's)")
    ap.add_argument("--settle", type=float, default=1.0,
                    help="seconds after the injection before the probed window")
    ap.add_argument("--after", type=float, default=3.0)
    args = ap.parse_args()
    features, options = [f for f in args.features.split(",") if f], json.loads(args.options)
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
                bare0 = window_cpu(server.pid, driver, args.before)
                control = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c", CONTROL])
                try:
                    time.sleep(0.3)
                    with_control = window_cpu(server.pid, driver, args.before)
                finally:
                    control.kill()
                    control.wait()
                before = window_cpu(server.pid, driver, args.before)
                rec = Recording.create(tmp, f"r{i}", "doctor")
                probe = InjectedProbe(features, options)
                t_inject = time.time()
                t0 = time.perf_counter()
                probe.start(rec, SimpleNamespace(pid=server.pid))
                attach_s = time.perf_counter() - t0
                time.sleep(args.settle)
                attached = window_cpu(server.pid, driver, args.attached)
                t0 = time.perf_counter()
                probe.stop(rec)
                detach_s = time.perf_counter() - t0
                after = window_cpu(server.pid, driver, args.after)
                rows.append({
                    "attached": probe.outcomes, "attach_s": attach_s, "detach_s": detach_s,
                    "cpu_ms_per_req_before": before, "cpu_ms_per_req_after": after,
                    "cpu_ms_per_req_attached": attached, "cpu_ms_per_req_control": with_control,
                    "ratio_control": with_control / ((bare0 + before) / 2),
                    "ratio_attached": attached / ((before + after) / 2),
                    "p99_ms_before": driver.p99(t_inject - args.before, t_inject),
                    "p99_ms_injection": driver.p99(t_inject, t_inject + 1.0),
                    "p99_ms_attached": driver.p99(t_inject, t_inject + args.settle
                                                  + args.attached)})
                print(json.dumps(rows[-1], sort_keys=True), flush=True)
        driver.halt.set()
        driver.join(10)
    finally:
        server.kill()
        server.wait()
    keys = ["attach_s", "detach_s", "cpu_ms_per_req_before", "cpu_ms_per_req_after",
            "cpu_ms_per_req_attached", "cpu_ms_per_req_control", "ratio_control",
            "ratio_attached", "p99_ms_before", "p99_ms_injection", "p99_ms_attached"]
    summary = {k: med_iqr([r[k] for r in rows if r[k] is not None]) for k in keys}
    result = {"schema_version": 1, "rounds": rows, "summary": summary, "errors": driver.errors,
              "rate": args.rate, "loadavg": os.getloadavg(), "python": platform.python_version(),
              "probe": {"features": features, "options": options},
              "command": "python bench/attach.py " + " ".join(sys.argv[1:])}
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    lines = ["# Attaching the probe to a live server (bench/attach.py)", "",
             f"`{result['command']}` — {args.rounds} rounds at {args.rate:g} req/s, server "
             f"(asyncio, CPython {result['python']}) on core 0, load on core 1; load average "
             f"at the end {result['loadavg'][0]:.2f}; request errors: {driver.errors}.", "",
             "| figure | median | IQR | max |", "| --- | --- | --- | --- |"]
    for k in keys:
        s = summary[k]
        lines.append(f"| {k} | {s['median']} | {s['iqr']} | {s['max']} |")
    rc, ra = summary["ratio_control"]["median"], summary["ratio_attached"]["median"]
    if rc is not None and ra is not None:
        lines += ["", f"The probe (features {', '.join(features)}, options "
                  f"{json.dumps(options, sort_keys=True)}) on the same process: "
                  f"{100 * (ra - 1):+.1f}% CPU per request, {100 * (ra - rc):+.1f}% beyond the "
                  f"control ({100 * (rc - 1):+.1f}%)."]
    if result["loadavg"][0] > 2:
        lines += ["", "The machine was shared with other developers' test runs (load average "
                  "above 2 on 2 cores): latency figures carry their noise; rerun on a quiet "
                  "machine for the p99 comparison."]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
