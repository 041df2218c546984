"""The data behind doctor's thresholds: every sample server, its verdict, and the evidence
each analyzer decided on, next to the named constants in pinkclinic/analysis/.

    flock -x /tmp/pinkclinic-cpu.lock python bench/doctor_thresholds.py [--runs 2]

Runs the same cases, with the same load, as tests/commands/test_doctor_samples.py and
writes bench/results/doctor_thresholds.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pinkclinic.analysis import gc, gil, io_wait, loop, loop_starvation, memory, saturation, traffic  # noqa: E402
from tests.commands.test_doctor_samples import CASES, LOAD  # noqa: E402

THRESHOLDS = {
    "loop.STALL_SHARE_ISSUE": loop.STALL_SHARE_ISSUE, "loop.LAG_P50_ISSUE_MS": loop.LAG_P50_ISSUE_MS,
    "loop.ON_CPU_SHARE_CPU": loop.ON_CPU_SHARE_CPU, "loop_starvation.LOOP_RAN_SHARE_OF_LAG": loop_starvation.LOOP_RAN_SHARE_OF_LAG,
    "gc.GC_SHARE_ISSUE": gc.GC_SHARE_ISSUE,
    "gc.GC_WORST_SECOND_ISSUE_S": gc.GC_WORST_SECOND_ISSUE_S,
    "memory.LEAK_R2": memory.LEAK_R2, "memory.LEAK_MIN_BYTES": memory.LEAK_MIN_BYTES,
    "memory.LEAK_TAIL_RATIO": memory.LEAK_TAIL_RATIO,
    "io_wait.IO_LATENCY_P50_MS": io_wait.IO_LATENCY_P50_MS, "io_wait.IO_CPU_IDLE_P90": io_wait.IO_CPU_IDLE_P90,
    "gil.GIL_MIN_BUSY_THREADS": gil.GIL_MIN_BUSY_THREADS, "gil.GIL_MIN_CPU": gil.GIL_MIN_CPU,
    "gil.GIL_WAIT_SHARE": gil.GIL_WAIT_SHARE, "gil.GIL_SHARE": gil.GIL_SHARE,
    "gil.GIL_MIN_USABLE": gil.GIL_MIN_USABLE, "saturation.RUNQ_SHARE": saturation.RUNQ_SHARE,
    "saturation.RUNQ_THREADS": saturation.RUNQ_THREADS,
    "traffic.LOAD_ERROR_SHARE": traffic.LOAD_ERROR_SHARE, "traffic.NO_TRAFFIC_CPU": traffic.NO_TRAFFIC_CPU,
}
# the evidence fields shown per analyzer
FIELDS = {
    "loop": ("stall_share", "lag_p50_ms", "on_cpu_share", "late_share", "loop_ran_share"),
    "gc": ("gc_share", "worst_second_s", "share_of_loop_stalls"),
    "memory": ("r2", "growth_bytes", "tail_ratio"),
    "io": ("latency_p50_ms", "cpu_busiest_p90"),
    "gil": ("busy_threads", "wanting_threads", "cpu_cores", "gil_share", "runq_share", "usable_cores"),
}


def run_case(dest: Path, name: str, command: list[str]) -> dict:
    env = {**os.environ, "PORT": "0", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "pinkclinic", "doctor", "--dest", str(dest), "--name", name,
                           "--load", LOAD, "--", *command], capture_output=True, text=True, env=env,
                          timeout=180)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1]}
    d = json.loads((dest / f"{name}.pinkclinic-doctor" / "diagnosis.json").read_text())
    culprit = (d["issues"][0]["culprits"] or [{}])[0].get("function") if d["issues"] else None
    return {"verdict": d["verdict"], "culprit": culprit,
            "findings": {f["signal"]: {"status": f["status"], "evidence": f["evidence"]}
                         for f in d["findings"]}}


def cell(finding: dict | None, fields: tuple[str, ...]) -> str:
    if not finding:
        return "–"
    ev = finding["evidence"]
    vals = []
    for k in fields:
        v = ev.get(k)
        if isinstance(v, float):
            v = f"{v:.3g}"
        elif isinstance(v, int) and v > 10**5:
            v = f"{v / 1e6:.1f}M"
        vals.append(str(v))
    mark = "**" if finding["status"] == "issue" else ""
    return f"{mark}{' / '.join(vals)}{mark}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    load_avg = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="pinkclinic-thresholds-") as tmp:
        for r in range(args.runs):
            for name, command, verdict, culprit in CASES:
                res = run_case(Path(tmp), f"{name}-{r}", command)
                res.update(sample=name, expected=verdict, expected_culprit=culprit, run=r + 1)
                rows.append(res)
                print(f"{name} run {r + 1}: {res.get('verdict', res.get('error'))} {res.get('culprit') or ''}",
                      flush=True)
    out = {"schema_version": 1, "date": time.strftime("%Y-%m-%d %H:%M"), "load": LOAD,
           "load_avg_at_start": load_avg, "thresholds": THRESHOLDS, "rows": rows}
    results = ROOT / "bench" / "results"
    (results / "doctor_thresholds.json").write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")
    lines = [
        f"# Doctor's thresholds and the data behind them ({out['date']}, load average {load_avg:.2f} at start)",
        "",
        f"Command: `flock -x /tmp/pinkclinic-cpu.lock python bench/doctor_thresholds.py --runs {args.runs}`. "
        f"Each sample server of tests/commands/test_doctor_samples.py under `--load \"{LOAD}\"`, "
        "unpinned, as in the tests. Cells give each analyzer's evidence; **bold** cells are issues.",
        "",
        "Thresholds in force: " + ", ".join(f"`{k} = {v}`" for k, v in THRESHOLDS.items()),
        "",
        "| sample | run | verdict (expected) | culprit | loop: stall share / lag p50 ms / on-CPU / "
        "ticks late share / loop ran share (both only when the loop ran for less than the lag) "
        "| gc: share / worst second s | memory: R² / growth / tail ratio | io: latency p50 ms / busiest CPU p90 "
        "| gil: busy threads / wanting to run / cores / GIL share (of the time off the run queue) "
        "/ run-queue share / usable cores |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['sample']} | {r['run']} | error: {r['error']} | | | | | | |")
            continue
        f = r["findings"]
        ok = "" if r["verdict"] == r["expected"] else " ✗"
        lines.append(f"| {r['sample']} | {r['run']} | {r['verdict']} ({r['expected']}){ok} | {r['culprit'] or '–'} | "
                     + " | ".join(cell(f.get(k), FIELDS[k]) for k in ("loop", "gc", "memory", "io", "gil"))
                     + " |")
    right = sum(1 for r in rows if r.get("verdict") == r["expected"])
    lines += ["", f"{right} of {len(rows)} runs gave the expected verdict."]
    (results / "doctor_thresholds.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
