"""What each collector costs: the server's CPU time per request at a fixed request rate.

    flock -x /tmp/pinkclinic-cpu.lock python bench/cost.py            # ~7 min on 2 quiet cores

samples/hello_starlette.py (uvicorn, uvloop, httptools) runs pinned to core 0. The load
(pinkclinic's own generator, paced at ``--rate`` req/s, well below saturation) and every
out-of-process collector run on core 1. For each run the server's CPU time is read from
its process CPU clock (``clock_gettime`` on the process's CPU-time clock: nanoseconds,
every thread, exited ones included) just before and just after ``--seconds`` of paced
load, after ``--warmup`` seconds of the same load; the figure is that CPU time divided by
the requests completed. At a fixed rate the server does the same work in every
condition, so any CPU beyond bare is what the collector made the server spend.

Each round runs every condition once on a fresh server, in an order rotated round by
round, with a bare run between every ``--bare-every`` conditions; each condition is
compared with the mean of the bare runs just before and after it (its ``ratio``), so
drift on a shared machine hits both sides. Reported: the median and interquartile range
of those ratios over the rounds, minus the control's median (``beyond control``).

The control is a do-nothing process on the server's core that wakes 100 times a second:
the machine's own price for any 100 Hz sampler.

Conditions: bare; control; the probe with no feature (``probe:none``); each probe feature
alone (``probe:routes`` times every request in the app's wrapper); the probe's default set;
``probe:waits``, that set with doctor's options (the task and thread snapshots); the psutil
sampler (10 ms); py-spy at 100 Hz, blocking and non-blocking; doctor's two halves,
``doctor:probe`` (its probe features and options, ``routes`` included) and
``doctor:outside`` (its sampler with thread states and its non-blocking py-spy); memray
and pyinstrument
(the probe's in-process features, as heap and flame run them); the whole of
`pinkclinic doctor`, `flame` and `heap` (``--collect-only --on-port``, the measured load
as the on-port command); and ``doctor:launched``, doctor as users run it (it launches the
server and paces the load itself: no ``routes`` in its probe, which ``--on-port`` adds).

Writes bench/results/cost.md and cost.json. ``--only a,b`` restricts the conditions.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pinkclinic.collect.psutil_sampler import ProcessSampler  # noqa: E402
from pinkclinic.collect.pyspy import PySpy  # noqa: E402
from pinkclinic.commands.doctor import PROBE_FEATURES as DOCTOR_FEATURES  # noqa: E402
from pinkclinic.commands.doctor import PROBE_OPTIONS as DOCTOR_OPTIONS  # noqa: E402
from pinkclinic.commands.doctor import PYSPY_RATE_HZ as DOCTOR_PYSPY_HZ  # noqa: E402
from pinkclinic.commands.doctor import ROUTES_FEATURE  # noqa: E402
from pinkclinic.jsonio import read_jsonl  # noqa: E402
from pinkclinic.resources import BOOTSTRAP_DIR  # noqa: E402

SERVER = [sys.executable, str(ROOT / "samples" / "hello_starlette.py")]
SERVER_CORE, LOAD_CORE = "0", "1"
LAYOUT: list[str] = []  # --fixed-layout: the server's memory layout the same in every run
CONTROL = "import time\nwhile True:\n    time.sleep(0.01)\n"
PROBE_FEATURES = ("loop", "gc", "tasks", "threads", "listen")  # the probe's default set


def _probe_conditions() -> dict:
    sys.path.insert(0, str(BOOTSTRAP_DIR))
    from pinkclinic_probe import FEATURES

    single = [f for f in FEATURES if f not in ("pyinstrument", "memray")]
    # the probe with no feature: the bootstrap, the probe's file; what each feature adds is
    # beyond this
    out = {"probe:none": {"probe": []}}
    out.update({f"probe:{f}": {"probe": [f]} for f in single})
    out["probe:default"] = {"probe": list(PROBE_FEATURES)}
    # the default set with doctor's options: what a launched doctor's probe does (task and
    # thread snapshots every waits_ms, budgeted); beyond probe:default is the waits' cost
    out["probe:waits"] = {"probe": list(PROBE_FEATURES), "options": DOCTOR_OPTIONS}
    out["memray"] = {"probe": ["memray"]}
    out["pyinstrument"] = {"probe": ["pyinstrument"]}
    return out


CONDITIONS: dict[str, dict] = {
    "control": {"control": True},
    **_probe_conditions(),
    "sampler": {"sampler": True},
    "py-spy": {"pyspy": False},
    "py-spy nonblocking": {"pyspy": True},
    # doctor's parts, as `doctor --on-port` runs them: its probe (features and options),
    # and its out-of-process collectors (the sampler, non-blocking py-spy)
    "doctor:probe": {"probe": [*DOCTOR_FEATURES, ROUTES_FEATURE], "options": DOCTOR_OPTIONS},
    "doctor:outside": {"sampler": True, "thread_states": True, "pyspy": True,
                       "pyspy_hz": DOCTOR_PYSPY_HZ},
    "doctor": {"command": "doctor"},
    # doctor as users run it: it launches the server and drives the paced load itself, so
    # its probe has no ``routes`` (the load generator times each request)
    "doctor:launched": {"launched": "doctor"},
    "flame": {"command": "flame"},
    "heap": {"command": "heap"},
}


# -- the measurement (also run as doctor's, flame's and heap's --on-port command) -----------
def process_cpu(pid: int) -> float:
    """CPU seconds of a whole process (all threads, exited ones too), ns resolution."""
    return time.clock_gettime((~pid << 3) | 2)  # MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)


def tree(pid: int) -> list[int]:
    import psutil

    try:
        p = psutil.Process(pid)
        return [pid] + [c.pid for c in p.children(recursive=True)]
    except psutil.Error:
        return [pid]


def tree_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += process_cpu(pid)
        except OSError:
            pass
    return total


def probe_threads_cpu(pids: list[int]) -> tuple[float, int]:
    """CPU seconds of the probe's own threads (OS name ``pkprobe-*``) still alive, and
    their wake-ups (voluntary context switches: each is a sleep that ended)."""
    total = wakes = 0
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/comm") as f:
                    if not f.read().startswith("pkprobe"):
                        continue
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
                with open(f"/proc/{pid}/task/{tid}/status") as f:
                    wakes += next(int(line.split()[1]) for line in f
                                  if line.startswith("voluntary_ctxt_switches"))
            except (OSError, StopIteration):
                pass
    return total / 1e9, wakes


def listener_pid(port: int) -> int:
    import psutil

    for c in psutil.net_connections("tcp"):
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port and c.pid:
            return c.pid
    raise RuntimeError(f"no process listens on port {port}")


def measure(port: int, rate: float, seconds: float, warmup: float, connections: int) -> dict:
    """Paced load on 127.0.0.1:port; the listener's tree CPU over the measured part."""
    from pinkclinic.load.protocols import build_spec, run_spec

    url = f"http://127.0.0.1:{port}/"
    pids = tree(listener_pid(port))
    if warmup > 0:
        run_spec(build_spec(url, connections=connections, duration=warmup, rate=rate))
    (p0, k0), c0, w0 = probe_threads_cpu(pids), tree_cpu(pids), time.monotonic()
    res = run_spec(build_spec(url, connections=connections, duration=seconds, rate=rate))
    c1, w1, (p1, k1) = tree_cpu(pids), time.monotonic(), probe_threads_cpu(pids)
    if res.requests == 0 or res.error_count:
        raise RuntimeError(f"load failed: {res.requests} requests, errors {res.errors}")
    return {"requests": res.requests, "cpu_s": c1 - c0, "wall_s": w1 - w0,
            "cpu_us_per_request": 1e6 * (c1 - c0) / res.requests, "pids": len(pids),
            "probe_threads_us_per_request": 1e6 * (p1 - p0) / res.requests,
            "probe_wakeups_per_s": (k1 - k0) / (w1 - w0),
            "rps": res.rps}


# -- one run of one condition -----------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"server did not listen on {port}")


def _measure_argv(args, port: str, out: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--measure", port, "--rate",
            str(args.rate), "--seconds", str(args.seconds), "--warmup", str(args.warmup),
            "--connections", str(args.connections), "--measure-out", str(out)]


def run_command(name: str, args, tmp: Path) -> dict:
    """`pinkclinic <name> --collect-only --on-port <measure>` with the server on core 0."""
    out = tmp / f"{name}-{time.monotonic_ns()}.json"
    on_port = shlex.join(_measure_argv(args, "PORTVAR", out)).replace("PORTVAR", "$PORT")
    argv = ["taskset", "-c", LOAD_CORE, sys.executable, "-m", "pinkclinic", name,
            "--dest", str(tmp), "--name", out.stem, "--collect-only", "--on-port", on_port,
            "--", "taskset", "-c", SERVER_CORE, *LAYOUT, *SERVER, "0"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    if not out.exists():
        raise RuntimeError(f"pinkclinic {name} failed ({p.returncode}): {p.stderr[-800:]}")
    return json.loads(out.read_text())


def run_server(cond: dict, args, tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PINKCLINIC_PROBE"}
    if "probe" in cond:
        rec = Path(tempfile.mkdtemp(dir=tmp))
        env["PYTHONPATH"] = str(BOOTSTRAP_DIR)
        env["PINKCLINIC_PROBE"] = json.dumps({**cond.get("options", {}), "dir": str(rec),
                                              "features": cond["probe"]})
    port = free_port()
    server = subprocess.Popen(["taskset", "-c", SERVER_CORE, *LAYOUT, *SERVER, str(port)], env=env,
                              start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    helpers: list = []
    try:
        wait_port(port)
        if cond.get("control"):
            helpers.append(subprocess.Popen(["taskset", "-c", SERVER_CORE, sys.executable, "-c",
                                             CONTROL], start_new_session=True))
        if cond.get("sampler"):
            states = tmp / "threads.jsonl" if cond.get("thread_states") else None
            helpers.append(ProcessSampler(server.pid, tmp / "processes.jsonl",
                                          thread_states=states).start())
        if "pyspy" in cond:
            spy = PySpy(server.pid, tmp / "pyspy.json", rate_hz=cond.get("pyspy_hz", 100),
                        nonblocking=cond["pyspy"])
            spy.start(15)
            helpers.append(spy)
        return measure(port, args.rate, args.seconds, args.warmup, args.connections)
    finally:
        for h in helpers:
            if isinstance(h, subprocess.Popen):
                h.kill()
                h.wait()
            else:
                h.stop()
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        for f in ("processes.jsonl", "threads.jsonl", "pyspy.json"):
            (tmp / f).unlink(missing_ok=True)


def _server_of(pid: int) -> int | None:
    """The launched server: the descendant of ``pid`` running SERVER's script."""
    import psutil

    try:
        for c in psutil.Process(pid).children(recursive=True):
            if SERVER[1] in c.cmdline():
                return c.pid
    except psutil.Error:
        pass
    return None


def _at(samples: list[tuple], t: float, i: int) -> float:
    """Field ``i`` of the polled ``(time, ...)`` samples at time ``t``, interpolated."""
    for a, b in itertools.pairwise(samples):
        if a[0] <= t <= b[0]:
            return a[i] + (b[i] - a[i]) * (t - a[0]) / (b[0] - a[0]) if b[0] > a[0] else a[i]
    raise RuntimeError(f"no CPU samples around {t:.3f} ({len(samples)} polled)")


def run_launched(name: str, args, tmp: Path) -> dict:
    """`pinkclinic <name> --collect-only --load '-R RATE ...' -- taskset -c 0 SERVER`: the
    command launches the server and paces the load itself (on core 1). The server's CPU
    clock and its probe threads are polled every 50 ms meanwhile; the measured part is the
    whole seconds of the recording's load.jsonl after ``--warmup`` (the last, drained bin
    left out), its CPU interpolated from the polls at the bins' edges."""
    stem = f"{name}-launched-{time.monotonic_ns()}"
    seconds = math.ceil(args.warmup) + math.ceil(args.seconds) + 1
    load = f"-R {args.rate:g} -c {args.connections} -d {seconds}"
    argv = ["taskset", "-c", LOAD_CORE, sys.executable, "-m", "pinkclinic", name,
            "--dest", str(tmp), "--name", stem, "--collect-only", "--load", load,
            "--", "taskset", "-c", SERVER_CORE, *LAYOUT, *SERVER, "0"]
    err = tmp / f"{stem}.stderr"
    with open(err, "w") as e:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=e,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        samples, server = [], None
        while proc.poll() is None:
            server = server or _server_of(proc.pid)
            if server is not None:
                try:
                    cpu = process_cpu(server)
                except OSError:
                    server = None
                else:
                    samples.append((time.time(), cpu, *probe_threads_cpu([server])))
            time.sleep(0.05)
    rec = tmp / f"{stem}.pinkclinic-{name}"
    if proc.returncode != 0 or not (rec / "load.jsonl").exists():
        raise RuntimeError(f"pinkclinic {name} failed ({proc.returncode}): "
                           f"{err.read_text()[-800:]}")
    bins = [r for r in read_jsonl(rec / "load.jsonl") if "requests" in r][:-1]
    bins = [b for b in bins if b["t"] >= bins[0]["t"] + args.warmup - 1e-6]
    if not bins or any(b.get("errors") for b in bins):
        raise RuntimeError(f"load failed: {bins}")
    t0, t1 = bins[0]["t"], bins[-1]["t"] + bins[-1]["dur_s"]
    n = sum(b["requests"] for b in bins)
    cpu = _at(samples, t1, 1) - _at(samples, t0, 1)
    return {"requests": n, "cpu_s": cpu, "wall_s": t1 - t0, "pids": 1,
            "cpu_us_per_request": 1e6 * cpu / n,
            "probe_threads_us_per_request": 1e6 * (_at(samples, t1, 2) - _at(samples, t0, 2)) / n,
            "probe_wakeups_per_s": (_at(samples, t1, 3) - _at(samples, t0, 3)) / (t1 - t0),
            "rps": n / (t1 - t0)}


def run_one(name: str, args, tmp: Path) -> dict:
    cond = CONDITIONS.get(name, {})
    if "command" in cond:
        return run_command(cond["command"], args, tmp)
    if "launched" in cond:
        return run_launched(cond["launched"], args, tmp)
    return run_server(cond, args, tmp)


# -- rounds and statistics --------------------------------------------------------------------
def schedule(names: list[str], r: int, bare_every: int) -> list[str]:
    """Round r: the conditions rotated by r, a bare run first, last and every few."""
    k = r % len(names)
    order = names[k:] + names[:k]
    out = ["bare"]
    for i, n in enumerate(order, 1):
        out.append(n)
        if i % bare_every == 0 or i == len(order):
            out.append("bare")
    return out


def quartiles(v: list[float]) -> tuple[float, float, float]:
    if len(v) < 2:
        return v[0], v[0], v[0]
    q = statistics.quantiles(v, n=4, method="inclusive")
    return q[0], statistics.median(v), q[2]


def summarise(runs: list[dict]) -> dict:
    """Per condition: ratios to the mean of the bare runs around it, median and IQR."""
    ratios: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    for r in sorted({x["round"] for x in runs}):
        seq = [x for x in runs if x["round"] == r]
        for i, x in enumerate(seq):
            cpu.setdefault(x["condition"], []).append(x["cpu_us_per_request"])
            if x["condition"] == "bare":
                continue
            before = next(y for y in reversed(seq[:i]) if y["condition"] == "bare")
            after = next(y for y in seq[i + 1:] if y["condition"] == "bare")
            base = (before["cpu_us_per_request"] + after["cpu_us_per_request"]) / 2
            ratios.setdefault(x["condition"], []).append(x["cpu_us_per_request"] / base)
    short = sorted({x["condition"] for x in runs if x.get("short")})
    out = {"bare": {"cpu_us_per_request": quartiles(cpu["bare"]), "runs": len(cpu["bare"])},
           "short_runs": {"n": sum(1 for x in runs if x.get("short")), "conditions": short}}
    control = statistics.median(ratios["control"]) if "control" in ratios else 1.0
    for name, v in ratios.items():
        q1, med, q3 = quartiles(v)
        probe = [x["probe_threads_us_per_request"] for x in runs
                 if x["condition"] == name and "probe_threads_us_per_request" in x]
        wakes = [x["probe_wakeups_per_s"] for x in runs
                 if x["condition"] == name and "probe_wakeups_per_s" in x]
        out[name] = {"ratio": [q1, med, q3], "ratios": v,
                     "probe_threads_us_per_request": statistics.median(probe) if probe else None,
                     "probe_wakeups_per_s": quartiles(wakes) if wakes else None,
                     "cpu_us_per_request": quartiles(cpu[name]),
                     "beyond_control_pct": 100 * (med - control)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, default=2.5,
                    help="paced load before measuring: past a fresh server's start-up, and "
                         "the probe's 2 s alert after the loop's first tick")
    ap.add_argument("--rate", type=float, default=1500.0, help="req/s, below saturation")
    ap.add_argument("--connections", type=int, default=10)
    ap.add_argument("--bare-every", type=int, default=5)
    ap.add_argument("--nice", type=int, default=-10,
                    help="priority of everything measured (root only): keeps other work on a "
                         "shared machine from preempting the server mid-request")
    ap.add_argument("--fixed-layout", action="store_true",
                    help="run every server without address-space randomisation (setarch -R) "
                         "and with PYTHONHASHSEED=0, so that runs differ by their condition, "
                         "not by where their objects landed")
    ap.add_argument("--only", default="", help="comma-separated conditions (default: all)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "cost"))
    ap.add_argument("--render-only", action="store_true", help="rewrite OUT.md from OUT.json")
    ap.add_argument("--measure", type=int, metavar="PORT", help=argparse.SUPPRESS)
    ap.add_argument("--measure-out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        res = measure(args.measure, args.rate, args.seconds, args.warmup, args.connections)
        Path(args.measure_out).write_text(json.dumps(res))
        return
    if args.render_only:
        Path(args.out + ".md").write_text(render(json.loads(Path(args.out + ".json").read_text())))
        return
    names = [n for n in args.only.split(",") if n] or list(CONDITIONS)
    unknown = set(names) - set(CONDITIONS)
    if unknown:
        sys.exit(f"unknown condition(s): {', '.join(sorted(unknown))}; "
                 f"known: {', '.join(CONDITIONS)}")
    if args.fixed_layout:
        LAYOUT[:] = ["setarch", platform.machine(), "-R"]
        os.environ["PYTHONHASHSEED"] = "0"
    if os.geteuid() == 0:
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)  # inherited by the server and the rest
    os.sched_setaffinity(0, {int(LOAD_CORE)})  # the load and the collectors: core 1
    tmp = Path(tempfile.mkdtemp(prefix="pinkclinic-cost-"))
    load_before, t0 = os.getloadavg(), time.monotonic()
    runs, loads = [], []
    try:
        for r in range(args.rounds):
            loads.append(os.getloadavg()[0])
            for name in schedule(names, r, args.bare_every):
                res = run_one(name, args, tmp)
                # a server that could not keep up with the rate was starved by other work
                res["short"] = res["rps"] < 0.97 * args.rate
                runs.append({"round": r, "condition": name, **res})
                print(f"round {r + 1} {name:22s} {res['cpu_us_per_request']:7.1f} µs/req "
                      f"{res['rps']:7.0f} req/s", flush=True)
    finally:
        subprocess.run(["rm", "-rf", str(tmp)])
    result = {"schema_version": 1, "rounds": args.rounds, "seconds": args.seconds,
              "warmup": args.warmup, "rate": args.rate, "connections": args.connections,
              "runs": runs, "summary": summarise(runs), "elapsed_s": time.monotonic() - t0,
              "loadavg": {"before": list(load_before), "after": list(os.getloadavg()),
                          "per_round_1m": loads},
              "nice": os.getpriority(os.PRIO_PROCESS, 0), "fixed_layout": bool(LAYOUT),
              "command": "python bench/cost.py " + " ".join(sys.argv[1:]),
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "kernel": platform.release()}}
    Path(args.out + ".json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    Path(args.out + ".md").write_text(render(result))
    print(render(result))


def _us(v) -> str:
    return "—" if v is None else f"{v:.1f}"


def _wakes(v: dict) -> str:
    q = v.get("probe_wakeups_per_s")
    return "—" if q is None else f"{q[1]:.1f} ({q[0]:.1f}–{q[2]:.1f})"


TARGETS = {"doctor": 3.0, "flame": 2.0, "probe:loop": 1.0, "probe:gc": 1.0}


def render(r: dict) -> str:
    s = r["summary"]
    s.setdefault("short_runs", {"n": sum(1 for x in r["runs"] if x["rps"] < 0.97 * r["rate"]),
                                "conditions": sorted({x["condition"] for x in r["runs"]
                                                      if x["rps"] < 0.97 * r["rate"]})})
    la = r["loadavg"]
    bq = s["bare"]["cpu_us_per_request"]
    lines = [
        "# What each collector costs the server (bench/cost.py)", "",
        f"Produced by `flock -x /tmp/pinkclinic-cpu.lock {r['command']}` in "
        f"{r['elapsed_s'] / 60:.1f} min on {r['machine']['cpus']} cores (Python "
        f"{r['machine']['python']}, kernel {r['machine']['kernel']}).",
        f"samples/hello_starlette.py pinned to core 0; pinkclinic's load generator paced at "
        f"{r['rate']:g} req/s ({r['connections']} connections) and every out-of-process "
        f"collector on core 1. Each run: a fresh server, {r['warmup']:g} s of paced load, then "
        f"{r['seconds']:g} s measured; the server's CPU time (its process CPU clock, all "
        f"threads) over the requests completed; everything measured at nice {r.get('nice', 0)}. {r['rounds']} rounds, the conditions rotated "
        "each round, bare runs between them; a condition's ratio is its CPU per request over "
        "the mean of the bare runs just before and after it." + (
            " Every server ran with the same memory layout (`setarch -R`, PYTHONHASHSEED=0)."
            if r.get("fixed_layout") else ""),
        f"Bare server: {bq[1]:.1f} µs of CPU per request (IQR {bq[0]:.1f}–{bq[2]:.1f}, "
        f"{s['bare']['runs']} runs).",
        f"1-minute load average: {la['before'][0]:.2f} before, {la['after'][0]:.2f} after, "
        f"per round {', '.join(f'{x:.2f}' for x in la['per_round_1m'])}"
        + (" — above 1, other work shared the 2 cores: the figures are noisy, rerun on a "
           "quiet machine." if max([la['before'][0], *la['per_round_1m']]) > 1.0 else "."),
        f"Runs whose server fell more than 3% short of the rate (starved by other work on "
        f"its core): {s['short_runs']['n']} of {len(r['runs'])}"
        + (f" ({', '.join(s['short_runs']['conditions'])})." if s['short_runs']['n'] else "."),
        "", "| condition | CPU per request vs bare (median) | IQR | µs/request | of which the "
        "probe's threads | probe wake-ups/s (IQR) | beyond control | target |",
        "|---|---|---|---|---|---|---|---|"]
    order = {n: i for i, n in enumerate(CONDITIONS)}
    for name, v in sorted(s.items(), key=lambda kv: order.get(kv[0], len(order))):
        if name in ("bare", "short_runs"):
            continue
        q1, med, q3 = v["ratio"]
        target = TARGETS.get(name)
        beyond = "—" if name == "control" else f"{v['beyond_control_pct']:+.1f}%"
        tgt = f"≤ {target:g}%" if target is not None else ""
        if target is not None:
            tgt += " ✓" if v["beyond_control_pct"] <= target else " ✗"
        lines.append(f"| {name} | {med:.3f} ({100 * (med - 1):+.1f}%) | {q1:.3f}–{q3:.3f} | "
                     f"{v['cpu_us_per_request'][1]:.1f} | "
                     f"{_us(v.get('probe_threads_us_per_request'))} | {_wakes(v)} | {beyond} | "
                     f"{tgt} |")
    lines += ["", "The control is a process on the server's core that only wakes 100 times a "
              "second: 'beyond control' subtracts that machine-level price of any 100 Hz "
              "wake-up from each condition's median. The probe's conditions run the server "
              "with only that feature on PYTHONPATH's sitecustomize; memray and pyinstrument "
              "are the probe's in-process features as heap and flame use them; doctor, flame "
              "and heap are whole `--collect-only --on-port` runs (their collectors, their "
              "probe, their py-spy). 'Of which the probe's threads' is the CPU time of the "
              "probe's own threads (`pkprobe-*`: the loop watcher, the sampler of periodic "
              "jobs) per request, read from their schedstat: exact on a noisy machine, where "
              "the ratios are not; the rest of a feature's cost is in the server's own threads "
              "(hooks, callbacks, extra loop wake-ups). 'Probe wake-ups/s' counts their "
              "voluntary context switches (/proc/PID/task/TID/status) over the measured "
              "seconds: on these VMs each costs the process about 150 µs of CPU, whatever "
              "the thread then does, and the count does not swing with the machine's load."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
