"""What the probe's ``gc`` and ``loop`` hooks cost per event, in nanoseconds.

    flock -x /tmp/pinkclinic-cpu.lock python bench/probe_hooks.py [--ref GIT_REF]

Each measurement runs in a fresh interpreter pinned to one core (taskset), with the
bootstrap folder of this tree (and, with ``--ref``, the same folder as it was at a git
ref, for a before/after) first on its path:

- ``gc``: the hook's price per collection. ``gc.collect(0)`` timed with
  ``time.perf_counter_ns`` over many calls (an old generation of 20,000 containers
  present), with the feature installed (its sampler thread flushing every second) and
  without. Cost = the difference per collection. Allocation-driven collections were
  tried too: the allocations' own time swamps the hook's there.
- ``loop``: the hook's price per loop iteration. An asyncio loop paced like a server
  (a timer every 0.5 ms doing ~20 µs of work), for ``--seconds``; the process's CPU
  time (every thread: the hook's own threads count) over the loop's iterations, with
  the ``loop`` feature on and off. Loop iterations are counted by the paced callback.

Each variant runs ``--rounds`` times, every tree in every round; figures are medians with the range.
The machine is shared, so the loop figures (whole-process CPU over seconds) are noisy;
the gc figures (tight timed loops) much less so. Writes bench/results/probe_hooks.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = ROOT / "pinkclinic" / "bootstrap"
CORE = "0"

GC_CHILD = r"""
import gc, json, os, sys, tempfile, time
mode, n = sys.argv[1], int(sys.argv[2])
ns = time.perf_counter_ns
if mode == "hook":
    from pinkclinic_probe._core import Probe
    import pinkclinic_probe.gc as pg
    probe = Probe({"dir": tempfile.mkdtemp(), "features": ["gc"]})
    probe.open()
    pg.install(probe)
keep = [[i] for i in range(20000)]  # an old generation, as a server has

def collections():
    return sum(s["collections"] for s in gc.get_stats())

def explicit():
    c0, t0 = collections(), ns()
    for _ in range(n):
        gc.collect(0)
    return (ns() - t0) / max(1, collections() - c0)

out = {"explicit": []}
for _ in range(5):
    out["explicit"].append(explicit())
print(json.dumps({k: sorted(v)[len(v) // 2] for k, v in out.items()}))
"""

LOOP_CHILD = r"""
import asyncio, json, sys, time
seconds = float(sys.argv[1])
cpu = time.process_time  # the process CPU clock: every thread, ns (rusage is tick-grained)

async def main():
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    state = {"n": 0}
    warm = time.perf_counter() + 0.25  # then the hook's threads run
    end = warm + seconds
    start = {}

    def work():
        state["n"] += 1
        if not start and time.perf_counter() >= warm:
            start["cpu"], start["n"] = cpu(), state["n"]
        t = time.perf_counter() + 20e-6
        while time.perf_counter() < t:
            pass
        if time.perf_counter() >= end:
            done.set_result(None)
        else:
            loop.call_later(0.0005, work)

    loop.call_soon(work)
    await done
    return (cpu() - start["cpu"]), state["n"] - start["n"]

used, n = asyncio.run(main())
print(json.dumps({"cpu_s": used, "iterations": n}))
"""


def run_child(code: str, argv: list[str], bootstrap: Path | None, features: list[str] | None,
              tmp: str) -> dict:
    env = dict(os.environ)
    env.pop("PINKCLINIC_PROBE", None)
    if bootstrap is not None:
        env["PYTHONPATH"] = str(bootstrap)
    if features is not None:
        env["PINKCLINIC_PROBE"] = json.dumps({"dir": tmp, "features": features})
    out = subprocess.run(["taskset", "-c", CORE, sys.executable, "-c", code, *argv], env=env,
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"probe_hooks: child failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def extract(ref: str, into: str) -> Path:
    """The bootstrap folder as it was at ``ref``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "pinkclinic/bootstrap"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return Path(into) / "pinkclinic" / "bootstrap"


def med(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": [round(v, 1) for v in values]}


def measure(trees: dict[str, Path], rounds: int, n_gc: int, seconds: float) -> dict:
    """Every tree's four runs in each round, rounds interleaved: drift on a shared
    machine hits every tree alike."""
    runs: dict = {label: {"gc_bare": [], "gc_hook": [], "loop_bare": [], "loop_hook": []}
                  for label in trees}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for label, tree in trees.items():
                r = runs[label]
                r["gc_bare"].append(run_child(GC_CHILD, ["bare", str(n_gc)], tree, None, tmp))
                r["gc_hook"].append(run_child(GC_CHILD, ["hook", str(n_gc)], tree, None, tmp))
                r["loop_bare"].append(run_child(LOOP_CHILD, [str(seconds)], tree, None, tmp))
                r["loop_hook"].append(run_child(LOOP_CHILD, [str(seconds)], tree, ["loop"], tmp))
    res: dict = {}
    for label, r in runs.items():
        gc_bare, gc_hook, loop_bare, loop_hook = (r["gc_bare"], r["gc_hook"], r["loop_bare"],
                                                  r["loop_hook"])
        entry = {}
        for kind in ("explicit",):
            extra = [h[kind] - b[kind] for b, h in zip(gc_bare, gc_hook)]
            entry[f"gc_{kind}_bare_ns"] = med([b[kind] for b in gc_bare])
            entry[f"gc_{kind}_hook_ns"] = med(extra)
        per_it = [1e9 * (h["cpu_s"] / h["iterations"] - b["cpu_s"] / b["iterations"])
                  for b, h in zip(loop_bare, loop_hook)]
        entry["loop_bare_ns_per_iteration"] = med(
            [1e9 * b["cpu_s"] / b["iterations"] for b in loop_bare])
        entry["loop_hook_ns_per_iteration"] = med(per_it)
        entry["loop_iterations_per_s"] = statistics.median(
            h["iterations"] / seconds for h in loop_hook)
        entry["loop_hook_cpu_share"] = med(
            [100 * (h["cpu_s"] - b["cpu_s"]) / b["cpu_s"] for b, h in zip(loop_bare, loop_hook)])
        res[label] = entry
    return res


def render(r: dict) -> str:
    lines = ["# What the probe's gc and loop hooks cost per event (bench/probe_hooks.py)", "",
             f"Produced by `{r['command']}` in {r['minutes']:.1f} min (Python {r['python']}, "
             f"{r['rounds']} rounds, each child pinned to core {CORE}; 1-minute load average "
             f"{r['load'][0]:.2f} before, {r['load'][1]:.2f} after: the machine is shared, "
             "the loop figures are noisy).", "",
             "| hook | measure | " + " | ".join(r["results"]) + " |",
             "|---|---|" + "---|" * len(r["results"])]

    def cell(label, key, unit):
        m = r["results"][label][key]
        return f"{m['median']:.0f}{unit} ({m['min']:.0f}..{m['max']:.0f})"

    rows = [("gc", "per `gc.collect(0)`: the collection, bare", "gc_explicit_bare_ns", " ns"),
            ("gc", "per `gc.collect(0)`: the hook's extra", "gc_explicit_hook_ns", " ns"),
            ("loop", "CPU per loop iteration, bare", "loop_bare_ns_per_iteration", " ns"),
            ("loop", "CPU per loop iteration: the hook's extra (all threads)",
             "loop_hook_ns_per_iteration", " ns"),
            ("loop", "the hook's extra CPU, share of the loop's", "loop_hook_cpu_share", "%")]
    for hook, what, key, unit in rows:
        lines.append(f"| {hook} | {what} | " + " | ".join(cell(lbl, key, unit) for lbl in r["results"]) + " |")
    lines += ["", "Medians over the rounds, (min..max) beside them. The loop workload: a timer "
              "every 0.5 ms doing ~20 µs of work, about "
              f"{next(iter(r['results'].values()))['loop_iterations_per_s']:.0f} iterations a second; "
              "the hook's extra includes its own threads' CPU and their GIL hand-offs."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", help="also measure the bootstrap as it was at this git ref")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--gc-n", type=int, default=20000, help="collections per timing")
    ap.add_argument("--seconds", type=float, default=2.0, help="loop run length")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "probe_hooks"))
    args = ap.parse_args()
    t0 = time.monotonic()
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        if args.ref:
            trees[f"at {args.ref}"] = extract(args.ref, tmp)
        trees["this tree"] = BOOTSTRAP
        results = measure(trees, args.rounds, args.gc_n, args.seconds)
    r = {"command": "flock -x /tmp/pinkclinic-cpu.lock python bench/probe_hooks.py "
                    + " ".join(shlex.quote(a) for a in sys.argv[1:]),
         "minutes": (time.monotonic() - t0) / 60, "python": platform.python_version(),
         "rounds": args.rounds, "load": [load0, os.getloadavg()[0]], "results": results}
    Path(args.out + ".json").write_text(json.dumps(r, indent=1, sort_keys=True) + "\n")
    Path(args.out + ".md").write_text(render(r))
    print(render(r))


if __name__ == "__main__":
    main()
