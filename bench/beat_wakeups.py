"""What the loop beat's wake-ups cost a server, and how many the calm tick saves.

Two parts, both on tests/session/apps/loop_server.py pinned to core 0, with this process
on core 1 driving a fixed rate (-R) over keep-alive connections (bench/attach.py's
Driver):

1. **The price of one wake-up**, on one server process: windows with and without a
   no-op timer that re-arms itself every PERIOD ms (switched on and off by SIGUSR1 from
   here), alternated. The server's extra voluntary context switches per second are the
   extra wake-ups; the extra CPU per second over them is the price of one. Counted on
   the same process, so that where its objects landed does not matter.
2. **The wake-ups the probe's ``loop`` feature adds**, per tick setting: fresh servers
   with the probe (``loop`` only) against bare ones, rotated, counting the server's
   voluntary context switches per second under the load (a count, far steadier than
   CPU time on a shared VM).

    flock -x /tmp/pinkclinic-cpu.lock python bench/beat_wakeups.py [--out bench/results/beat_wakeups]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.attach import Driver, med_iqr  # noqa: E402
from pinkclinic.procs import process_cpu_s, thread_wakeups  # noqa: E402
from pinkclinic.target.env import probe_env  # noqa: E402
from tests.helpers import free_port, wait_port  # noqa: E402

APP = ROOT / "tests/session/apps/loop_server.py"
TIMER_SERVER = """
import asyncio, signal, sys
sys.path.insert(0, sys.argv[3])
import loop_server
period, on = float(sys.argv[2]), [False]
def beat():
    if on[0]:
        asyncio.get_running_loop().call_later(period, beat)
def toggle():
    on[0] = not on[0]
    if on[0]:
        beat()
async def main(port):
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, toggle)
    server = await asyncio.start_server(loop_server.handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()
asyncio.run(main(int(sys.argv[1])))
"""
TICKS = {"bare": None, "tick 10 ms (before)": {"calm_tick_ms": 10},
         "calm 20 ms, 10 on alert (default)": {}, "calm 40 ms": {"calm_tick_ms": 40}}


def window(pid: int, driver: Driver, secs: float) -> dict:
    s0, c0, t0 = thread_wakeups(pid), process_cpu_s(pid), time.time()
    time.sleep(secs)
    s1, c1, t1 = thread_wakeups(pid), process_cpu_s(pid), time.time()
    n = driver.count(t0, t1)
    return {"wakeups_s": (s1 - s0) / (t1 - t0), "cpu_ms_s": (c1 - c0) * 1000 / (t1 - t0),
            "cpu_us_req": (c1 - c0) * 1e6 / n if n else float("nan")}


def price_of_a_wakeup(args) -> list[dict]:
    port = free_port()
    server = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c", TIMER_SERVER,
                               str(port), str(args.period_ms / 1000), str(APP.parent)])
    rows = []
    try:
        wait_port(port, 15, server)
        driver = Driver(port, args.rate)
        driver.start()
        time.sleep(1.5)
        for _ in range(args.toggles):
            off1 = window(server.pid, driver, args.window)
            server.send_signal(signal.SIGUSR1)
            time.sleep(0.1)
            on = window(server.pid, driver, args.window)
            server.send_signal(signal.SIGUSR1)
            time.sleep(0.1)
            off2 = window(server.pid, driver, args.window)
            base = {k: (off1[k] + off2[k]) / 2 for k in on}
            extra = on["wakeups_s"] - base["wakeups_s"]
            rows.append({"extra_wakeups_s": extra, "extra_cpu_ms_s": on["cpu_ms_s"] - base["cpu_ms_s"],
                         "ratio_cpu_per_req": on["cpu_us_req"] / base["cpu_us_req"],
                         "us_per_wakeup": (on["cpu_ms_s"] - base["cpu_ms_s"]) * 1000 / extra
                         if extra > 0 else None})
        driver.halt.set()
        driver.join(10)
    finally:
        server.kill()
        server.wait()
    return rows


def probe_ticks(args) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {name: [] for name in TICKS}
    for _ in range(args.rounds):
        for name, opts in TICKS.items():
            port = free_port()
            env = dict(os.environ)
            with tempfile.TemporaryDirectory() as tmp:
                if opts is not None:
                    env.update(probe_env(tmp, features=["loop"], block_ms=30, **opts))
                server = subprocess.Popen(["taskset", "-c", "0", sys.executable, str(APP),
                                           str(port)], env=env)
                try:
                    wait_port(port, 15, server)
                    driver = Driver(port, args.rate)
                    driver.start()
                    time.sleep(args.warmup)
                    out[name].append(window(server.pid, driver, args.seconds))
                    driver.halt.set()
                    driver.join(10)
                finally:
                    server.kill()
                    server.wait()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=1000)
    ap.add_argument("--period-ms", type=float, default=2.0,
                    help="the no-op timer's period: many wake-ups, so that their price "
                         "stands out of the noise")
    ap.add_argument("--toggles", type=int, default=30)
    ap.add_argument("--window", type=float, default=0.5)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--warmup", type=float, default=3.0,
                    help="past the start-up stalls and the 2 s alert they raise")
    ap.add_argument("--out", default=str(ROOT / "bench/results/beat_wakeups"))
    args = ap.parse_args()
    os.sched_setaffinity(0, {1})
    t0 = time.time()
    price = price_of_a_wakeup(args)
    ticks = probe_ticks(args)
    bare = statistics.median(r["wakeups_s"] for r in ticks["bare"])
    result = {
        "schema_version": 1, "command": "python bench/beat_wakeups.py " + " ".join(sys.argv[1:]),
        "python": platform.python_version(), "rate": args.rate, "minutes": (time.time() - t0) / 60,
        "loadavg": os.getloadavg(), "price": price, "ticks": ticks,
        "summary": {
            "price": {k: med_iqr([r[k] for r in price if r[k] is not None])
                      for k in ("extra_wakeups_s", "us_per_wakeup", "ratio_cpu_per_req")},
            "ticks": {name: {"wakeups_s": med_iqr([r["wakeups_s"] for r in rows]),
                             "extra_wakeups_s": med_iqr([r["wakeups_s"] - bare for r in rows]),
                             "cpu_us_req": med_iqr([r["cpu_us_req"] for r in rows])}
                      for name, rows in ticks.items()}}}
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    out.with_suffix(".md").write_text(render(result, args))
    print(out.with_suffix(".md").read_text())


def render(result: dict, args) -> str:
    s = result["summary"]
    p = s["price"]
    per = p["us_per_wakeup"]
    lines = [
        "# What the loop beat's wake-ups cost (bench/beat_wakeups.py)", "",
        f"Produced by `flock -x /tmp/pinkclinic-cpu.lock {result['command']}` in "
        f"{result['minutes']:.1f} min (Python {result['python']}; 1-minute load average at "
        f"the end {result['loadavg'][0]:.2f}). tests/session/apps/loop_server.py on core 0, "
        f"{args.rate:g} req/s over 4 keep-alive connections from core 1.", "",
        "## The price of one wake-up", "",
        f"One server process, {args.toggles} rounds of {args.window:g} s windows: without, "
        f"with and again without a no-op timer every {args.period_ms:g} ms.", "",
        "| figure | median | IQR |", "| --- | --- | --- |",
        f"| extra wake-ups a second | {p['extra_wakeups_s']['median']:.0f} | "
        f"{p['extra_wakeups_s']['iqr']:.0f} |",
        f"| CPU per extra wake-up | {per['median']:.1f} µs | {per['iqr']:.1f} µs |",
        f"| CPU per request, with the timer / without | {p['ratio_cpu_per_req']['median']:.3f} | "
        f"{p['ratio_cpu_per_req']['iqr']:.3f} |", "",
        "## The wake-ups of the probe's `loop` feature", "",
        f"Fresh servers, {args.rounds} rounds rotating the settings; each {args.warmup:g} s of "
        f"load, then {args.seconds:g} s counted. 'Extra' is against the median bare server; "
        "the wake-ups' cost is the extra wake-ups times the price of one, over the bare "
        "server's CPU a second (the beat's own work per tick, a few µs, is not in it).", "",
        "| setting | wake-ups a second (IQR) | extra | the wake-ups' cost | CPU per request, µs (IQR) |",
        "| --- | --- | --- | --- | --- |"]
    bare_cpu = statistics.median(r["cpu_ms_s"] for r in result["ticks"]["bare"])
    for name, row in s["ticks"].items():
        extra = row["extra_wakeups_s"]["median"]
        cost = "" if name == "bare" else f"{extra * per['median'] / 1000 / bare_cpu:+.1%}"
        lines.append(f"| {name} | {row['wakeups_s']['median']:.0f} ({row['wakeups_s']['iqr']:.0f}) "
                     f"| {extra:+.0f} | {cost} | {row['cpu_us_req']['median']:.1f} "
                     f"({row['cpu_us_req']['iqr']:.1f}) |")
    lines += ["", "CPU per request is shown for completeness: between fresh processes it moves "
              "by more than these costs (bench/cost.py), which is why the wake-ups are counted."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
