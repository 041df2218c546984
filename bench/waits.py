"""Figures for `pinkclinic waits`: cost, snapshot time, analysis scale, accuracy.

    flock -x /tmp/pinkclinic-cpu.lock python bench/waits.py [--rounds 5] [--seconds 5]

* cost: the server's CPU per request at a fixed rate (``-R``), bare against the probe
  without a snapshot rate of its own (tasks every 500 ms), with 20 ms and 50 ms task
  snapshots (``pinkclinic waits`` uses 50) and as doctor runs it (100 ms), alternating
  round by round; samples/io_wait_starlette.py (50 ms backend,
  -c 50 -R 400: about 20 tasks suspended at once) on core 0, the load on core 1;
* snapshot: one snapshot of 10,000 live tasks (a mix of events, sleeps, a semaphore and
  gathers), walked whole and with the probe's sampling cap, in-process;
* scale: the analysis (``wait_profile`` + ``waits_json``) of a synthetic 60 s recording
  with 1,000 concurrent tasks at 50 snapshots a second;
* accuracy: ``pinkclinic waits -c 20 -d 4`` on the samples, the designed site's share
  against its designed share.

Writes bench/results/waits.md and .json (``--out``: another name).
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.cost import CONTROL, probe_threads_cpu  # noqa: E402
from tests.helpers import free_port, wait_port  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BOOTSTRAP = ROOT / "pinkclinic" / "bootstrap"
SERVER = ROOT / "samples" / "io_wait_starlette.py"
# waits_ms; 0: the probe as before task snapshots had their own rate (every 500 ms)
# "control": bare, with a do-nothing process on the server's core waking 100 times a second
# (bench/cost.py's control: the machine's own price for any 100 Hz wake-up, as the
# probe's loop watcher)
CONDITIONS = {"bare": None, "control (100 Hz, do-nothing)": "control", "probe, no waits rate": 0, "waits (20 ms)": 20, "waits (50 ms)": 50,
              "doctor (100 ms)": 100}
# sample, designed site function, kind, designed share of request time, why
ACCURACY = [
    ("pool_exhausted_aiohttp.py", "get_orders", "semaphore", 0.90, "18 of 20 tasks wait for 2 slots"),
    ("lock_contention_aiohttp.py", "current_token", "lock", 0.95, "19 of 20 tasks wait for the lock"),
    ("pool_exhausted_starlette.py", "load_invoice", "executor", 1.00, "2 running + 18 queued of 20"),
    ("io_wait_upstream_aiohttp.py", "fetch_price", "socket", 0.95, "all but the CPU time"),
]


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cost_round(tmp: Path, waits_ms: int | str | None, args) -> dict:
    port = free_port()
    env = {**os.environ, "PORT": str(port)}
    env.pop("PINKCLINIC_PROBE", None)
    control = None
    if waits_ms == "control":
        control = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c", CONTROL])
    elif waits_ms is not None:
        rec = Path(tempfile.mkdtemp(dir=tmp))
        env["PYTHONPATH"] = str(BOOTSTRAP)
        env["PINKCLINIC_PROBE"] = json.dumps({"dir": str(rec), "features": ["loop", "tasks"],
                                              **({"waits_ms": waits_ms} if waits_ms else {})})
    proc = subprocess.Popen(["taskset", "-c", "0", sys.executable, str(SERVER)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, 20)
        time.sleep(1.0)
        c0, (_, k0), w0 = cpu_seconds(proc.pid), probe_threads_cpu([proc.pid]), time.monotonic()
        out = subprocess.run(["taskset", "-c", "1", sys.executable, "-m", "pinkclinic", "bench",
                              "-j", "-c", "50", "-R", str(args.rate), "-d", str(args.seconds),
                              f"http://127.0.0.1:{port}/"], capture_output=True, text=True,
                             cwd=ROOT, check=True)
        c1, (_, k1), w1 = cpu_seconds(proc.pid), probe_threads_cpu([proc.pid]), time.monotonic()
    finally:
        proc.terminate()
        proc.wait(10)
        if control is not None:
            control.terminate()
            control.wait(10)
    res = json.loads(out.stdout)
    n = res["requests"]["total"] if isinstance(res["requests"], dict) and "total" in res["requests"] \
        else res.get("2xx") or res.get("requests", {}).get("sent")
    return {"requests": n, "cpu_s": c1 - c0, "cpu_us_per_request": 1e6 * (c1 - c0) / max(1, n),
            "probe_wakeups_per_s": (k1 - k0) / (w1 - w0)}


def cost(args) -> dict:
    runs: dict[str, list] = {c: [] for c in CONDITIONS}
    with tempfile.TemporaryDirectory() as tmp:
        names = list(CONDITIONS)
        for i in range(args.rounds):
            for name in names[i % len(names):] + names[:i % len(names)]:
                r = cost_round(Path(tmp), CONDITIONS[name], args)
                runs[name].append(r)
                print(f"round {i + 1} {name:16s} {r['cpu_us_per_request']:.1f} us/request "
                      f"({r['requests']} requests)", flush=True)
    out = {}
    for name, rs in runs.items():
        ratios = sorted(r["cpu_us_per_request"] / b["cpu_us_per_request"]
                        for r, b in zip(rs, runs["bare"]))
        us = sorted(r["cpu_us_per_request"] for r in rs)
        wakes = sorted(r["probe_wakeups_per_s"] for r in rs)
        out[name] = {"cpu_us_per_request_median": statistics.median(us),
                     "probe_wakeups_per_s_median": statistics.median(wakes),
                     "probe_wakeups_per_s_iqr": iqr(wakes),
                     "cpu_us_per_request_iqr": iqr(us),
                     "ratio_to_bare_median": statistics.median(ratios),
                     "ratio_to_bare_iqr": iqr(ratios), "runs": rs}
    return out


def iqr(values: list[float]) -> list[float]:
    v = sorted(values)
    if len(v) < 4:
        return [v[0], v[-1]]
    q = statistics.quantiles(v, n=4)
    return [q[0], q[2]]


def snapshot() -> dict:
    sys.path.insert(0, str(BOOTSTRAP))
    from pinkclinic_probe import _waits, _watch

    async def main():
        ev, sem = asyncio.Event(), asyncio.Semaphore(0)

        async def leaf(i):
            if i % 3 == 0:
                await ev.wait()
            elif i % 3 == 1:
                await asyncio.sleep(3600)
            else:
                async with sem:
                    pass

        async def parent(i):
            await asyncio.gather(leaf(i), leaf(i + 1))

        tasks = [asyncio.ensure_future(parent(i)) for i in range(3334)]  # 10,002 tasks
        await asyncio.sleep(0.05)
        live = asyncio.all_tasks()
        caps = {"whole": 1 << 30, "2000": 2000, "200": 200, "1": 1}
        times = {c: [] for c in caps}
        for _ in range(15):
            for name, cap in caps.items():
                t = time.perf_counter()
                _waits.snapshot(live, cap)
                times[name].append(time.perf_counter() - t)
        # as the probe takes it: a draw from the task registry, the cap adapted so one
        # snapshot costs about WAITS_STALL_S of CPU (_watch._write_waits), from FIRST_TASKS
        loop, cap, probe_times, caps = asyncio.get_running_loop(), _watch.FIRST_TASKS, [], []
        for i in range(25):
            t, c = time.perf_counter(), time.thread_time()
            drawn = _waits.sample(loop, cap)
            _waits.snapshot(drawn[0], cap, live=drawn[1])
            wall, cpu = time.perf_counter() - t, time.thread_time() - c
            if i >= 10:
                probe_times.append(wall)
                caps.append(cap)
            cap = max(50, min(_watch.MAX_TASKS, int(_watch.WAITS_STALL_S * cap / cpu)))
        listing = []
        for _ in range(15):
            t = time.perf_counter()
            asyncio.all_tasks()
            listing.append(time.perf_counter() - t)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {"tasks": len(live), "probe_ms_median": 1000 * statistics.median(probe_times),
                "probe_ms_iqr": [1000 * x for x in iqr(probe_times)],
                "probe_walked_median": statistics.median(caps), "first_tasks": _watch.FIRST_TASKS,
                "all_tasks_ms_median": 1000 * statistics.median(listing), **{
            f"{name}_ms_median": 1000 * statistics.median(v) for name, v in times.items()}, **{
            f"{name}_ms_iqr": [1000 * x for x in iqr(v)] for name, v in times.items()}}

    return asyncio.run(main())


def scale() -> dict:
    out = {}
    for v in (3, 2):
        times, records = scale_once(v)
        out[f"v{v}_analysis_s_median"] = statistics.median(times)
        out[f"v{v}_analysis_s_all"] = times
    return {"records": records, "tasks": 1000, "seconds": 60,
            "analysis_s_median": out["v3_analysis_s_median"], **out}


def scale_once(v: int) -> tuple[list[float], int]:
    """Reading the probe stream and the analysis (``wait_profile`` + ``waits_json``) of a
    synthetic 60 s recording, its ``waits`` records as the probe writes them (v3: each
    stack once, then by id) or as it did before (v2: every stack in full each time)."""
    from pinkclinic.analysis.waits import wait_profile, waits_json
    from tests.synth import SITE_FRAME, STDLIB, Synth, frame

    with tempfile.TemporaryDirectory() as tmp:
        s = Synth(tmp, load_s=60.0)
        s.processes(pid=100, cores=0.3)
        s.load(rps=1000, p50_ms=50)
        p = s.probe(pid=100)
        groups = []
        for i in range(20):  # 20 sites, 1,000 tasks in all
            stack = [SITE_FRAME, frame("handler", 5), frame(f"service_{i}", 10 + i),
                     ["Semaphore.acquire", f"{STDLIB}/asyncio/locks.py", 387]]
            groups.append((stack, 50, {"kind": "semaphore", "resource": f"asyncio.Semaphore@{i:x}",
                                       "value": 0, "waiters": 50}))
        records = 0
        for t in s.times(0.02):
            rec = {"type": "waits", "t": t, "v": v, "thread_id": 100, "n": 1000,
                   "walked": 1000, "dt_ms": 20.0, "dur_ms": 0.5, "other": 0,
                   "leaves": [lf for _, _, lf in groups]}
            if v == 3:
                rec["stacks"] = [[j + 1, n] for j, (_st, n, _) in enumerate(groups)]
                if not records:
                    rec["defs"] = [[j + 1, st] for j, (st, _n, _) in enumerate(groups)]
            else:
                rec["stacks"] = [[st, n] for st, n, _ in groups]
            p.w.write(rec)
            records += 1
        p.w.flush()
        times = []
        for _ in range(3):
            data = s.data()  # reads the streams lazily: the reading is timed too
            t = time.perf_counter()
            out = waits_json(wait_profile(data))
            times.append(time.perf_counter() - t)
        assert len(out["sites"]) == 20
    return times, records


def accuracy() -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for sample, func, kind, designed, why in ACCURACY:
            name = sample.split(".")[0]
            subprocess.run([sys.executable, "-m", "pinkclinic", "waits", "--dest", tmp, "--name",
                            name, "--load", "-c 20 -d 4", "--", sys.executable,
                            str(ROOT / "samples" / sample)], cwd=ROOT, capture_output=True,
                           env={**os.environ, "PORT": "0"}, check=True)
            waits = json.loads((Path(tmp) / f"{name}.pinkclinic-waits" / "waits.json").read_text())
            share = sum(s["share"] for s in waits["sites"] if s["function"] == func and s["kind"] == kind)
            rows.append({"sample": sample, "site": f"{func} ({kind})", "designed": designed,
                         "measured": round(share, 3), "why": why,
                         "within_10_points": abs(share - designed) <= 0.10})
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rate", type=int, default=400)
    ap.add_argument("--only", choices=["cost", "snapshot", "scale", "accuracy"])
    ap.add_argument("--out", default=str(RESULTS / "waits"),
                    help="writes OUT.md and OUT.json (with --only, the other parts are kept "
                         "from OUT.json, else from bench/results/waits.json)")
    args = ap.parse_args()
    out = Path(args.out)
    kept = out.with_suffix(".json") if out.with_suffix(".json").exists() else RESULTS / "waits.json"
    load0 = os.getloadavg()
    res = {"meta": {"python": platform.python_version(), "cpus": os.cpu_count(), "rate": args.rate,
                    "loadavg_before": load0, "argv": sys.argv[1:]}}
    if args.only and kept.exists():  # one part again: keep the others
        old = json.loads(kept.read_text())
        res.update({k: v for k, v in old.items() if k != "meta"})
        # each kept part keeps the meta of the run that made it (never nested: a part's own
        # meta has no "parts")
        old_meta = old.get("meta", {})
        old_parts = old_meta.get("parts", {})
        res["meta"]["parts"] = {k: {a: b for a, b in old_parts.get(k, old_meta).items() if a != "parts"}
                                for k in old if k != "meta"}
    ran = [p for p in ("snapshot", "scale", "accuracy", "cost") if args.only in (None, p)]
    for part in ran:
        res[part] = globals()[part](args) if part == "cost" else globals()[part]()
    res["meta"]["loadavg_after"] = os.getloadavg()
    # the parts run now carry this run's meta (a kept part's meta is the run that made it)
    this = {a: b for a, b in res["meta"].items() if a != "parts"}
    res["meta"].setdefault("parts", {}).update({p: this for p in ran})
    out.parent.mkdir(exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(res, indent=1, sort_keys=True) + "\n")
    out.with_suffix(".md").write_text(markdown(res))
    print(markdown(res))


def _made_by(res: dict, part: str) -> list[str]:
    """The command and load average of the run that produced ``part``."""
    m = res["meta"].get("parts", {}).get(part, res["meta"])
    return ["    flock -x /tmp/pinkclinic-cpu.lock python bench/waits.py " + " ".join(m["argv"]),
            "", f"Load average before {m['loadavg_before'][0]:.2f}, after "
            f"{m.get('loadavg_after', m['loadavg_before'])[0]:.2f}.", ""]


def markdown(res: dict) -> str:
    m = res["meta"]
    lines = ["# pinkclinic waits: cost, snapshot, scale, accuracy", "",
             f"Python {m['python']}, {m['cpus']} cores (shared with other developers). Each part "
             "below names the run that produced it.", ""]
    if "snapshot" in res:
        s = res["snapshot"]
        lines += ["## Snapshot (target: 10,000 live tasks in <= 5 ms)", "", *_made_by(res, "snapshot"),
                  f"{s['tasks']:,} live tasks, one snapshot, median of 15 (IQR):", "",
                  "| tasks walked | ms |", "|---|---|",
                  *[f"| {name} | {s[name + '_ms_median']:.2f} ({s[name + '_ms_iqr'][0]:.2f}-"
                    f"{s[name + '_ms_iqr'][1]:.2f}) |" for name in ("whole", "2000", "200", "1")],
                  "", *([f"**As the probe takes it: {s['probe_ms_median']:.2f} ms** (IQR "
                         f"{s['probe_ms_iqr'][0]:.2f}-{s['probe_ms_iqr'][1]:.2f}; snapshots 11-25), "
                         f"walking a median {s['probe_walked_median']:.0f} tasks: a draw from the "
                         "task registry (no `asyncio.all_tasks()`, which alone takes "
                         f"{s['all_tasks_ms_median']:.2f} ms here), the first snapshot walking "
                         f"{s['first_tasks']}, then as many as fit in about 1 ms of CPU (at least "
                         "50), each weighing n / walked. `1` is the floor of the rows above: the "
                         "tasks given, one walked.", ""] if "probe_ms_median" in s else [])]
    if "scale" in res:
        s = res["scale"]
        lines += ["## Scale (target: 60 s, 1,000 concurrent tasks analysed in <= 3 s)", "",
                  *_made_by(res, "scale"),
                  f"{s['records']:,} snapshots of {s['tasks']:,} tasks (20 sites) over "
                  f"{s['seconds']} s, read and analysed in {s['analysis_s_median']:.2f} s (median "
                  "of 3, records as the probe writes them: v3, each stack once then by id)"
                  + (f"; v2 records (every stack in full, as before): "
                     f"{s['v2_analysis_s_median']:.2f} s." if "v2_analysis_s_median" in s else "."),
                  ""]
    if "accuracy" in res:
        lines += ["## Accuracy (target: the designed site's share within +-10 points)", "",
                  *_made_by(res, "accuracy"),
                  "| sample | site | designed | measured | why | within 10 points |",
                  "|---|---|---|---|---|---|"]
        for r in res["accuracy"]:
            lines.append(f"| {r['sample']} | {r['site']} | {100 * r['designed']:.0f}% | "
                         f"{100 * r['measured']:.1f}% | {r['why']} | {r['within_10_points']} |")
        lines.append("")
    if "cost" in res:
        lines += ["## Cost (target: at most 3% more server CPU per request at a fixed rate)", "",
                  *_made_by(res, "cost"),
                  "| condition | CPU µs/request (median, IQR) | ratio to bare (median, IQR) | "
                  "probe wake-ups/s (median, IQR) |", "|---|---|---|---|"]
        for name, c in res["cost"].items():
            lo, hi = c["cpu_us_per_request_iqr"]
            rlo, rhi = c["ratio_to_bare_iqr"]
            wakes = "—"
            if "probe_wakeups_per_s_median" in c:
                wlo, whi = c["probe_wakeups_per_s_iqr"]
                wakes = f"{c['probe_wakeups_per_s_median']:.1f} ({wlo:.1f}-{whi:.1f})"
            lines.append(f"| {name} | {c['cpu_us_per_request_median']:.1f} ({lo:.1f}-{hi:.1f}) | "
                         f"{c['ratio_to_bare_median']:.3f} ({rlo:.3f}-{rhi:.3f}) | {wakes} |")
        lines += ["", "Probe wake-ups: the voluntary context switches of the probe's threads "
                  "(`pkprobe-*`) a second over the measured load, from "
                  "/proc/PID/task/TID/status; each costs the process ~150 µs of CPU on these "
                  "VMs, and the count does not swing with other work on the machine as the "
                  "ratios do."]
        lines.append("")
        cost = res["cost"]
        if "bare" in cost and "probe, no waits rate" in cost:
            bare = cost["bare"]["cpu_us_per_request_median"]
            base = cost["probe, no waits rate"]["cpu_us_per_request_median"]
            cores = bare * 1e-6 * res["meta"].get("rate", 400)
            lines += [f"The bare server uses about {cores:.2f} of a core at this rate, so 3% of its "
                      f"CPU is about {3 * cores:.2f}% of one core. The snapshots' budget is "
                      "1.5% of the loop thread's own CPU (at most 1.5% of a core), so what "
                      "they add stays in proportion to the server's work; `probe, no waits "
                      "rate` is the probe's other features (loop lag, task counts). "
                      "Beyond the probe without snapshots: " + ", ".join(
                          f"{name} {100 * (c['cpu_us_per_request_median'] / base - 1):+.1f}%"
                          for name, c in cost.items() if name.startswith(("waits", "doctor")))
                      + ". Runs alternate round by round on 2 cores shared with other "
                      "developers: the spreads are wide.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
