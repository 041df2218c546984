"""Stress for the load generator's endings (issue 18): ``-a`` runs in-process against
servers that close, reset or drop connections, each looped ``--runs`` times (200) with a
busy loop on core 0, as on a shared CI machine. Every run must end, on its own, with
exact counts: answered + failed = the amount, nothing in flight, nothing unsent.

The cases and their checks are ``tests/load/http1/closing_cases.py``, which the suite also
runs (fewer times) in ``tests/load/http1/test_closing_stress.py``.

    python bench/load_stress.py            # writes bench/results/load_stress.{md,json}
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pinkclinic.load import run_load  # noqa: E402
from pinkclinic.loadargs import parse_bench_args  # noqa: E402
from tests.helpers import busy_core, free_port, server  # noqa: E402
from tests.load.conftest import SERVERS, Served  # noqa: E402
from tests.load.http1.closing_cases import CASES, problems  # noqa: E402

RUN_LIMIT_S = 30.0  # a run longer than this counts as hung (each takes well under 1 s)


def stress(case, runs: int) -> dict:
    port = free_port()
    with server([sys.executable, str(SERVERS), case.server[0], str(port), *case.server[1:]],
                port):
        s = Served(port)
        times, bad = [], []
        for i in range(runs):
            before = s.counts()["requests"] if case.all_answered else 0
            t = time.monotonic()
            r = run_load(parse_bench_args(["-a", str(case.amount), *case.args, s.url]))
            took = time.monotonic() - t
            times.append(took)
            served = s.counts()["requests"] - before if case.all_answered else None
            found = problems(case, r, served) + (
                [f"took {took:.1f}s"] if took > RUN_LIMIT_S else [])
            if found:
                bad.append({"run": i, "problems": found})
    q = statistics.quantiles(times, n=4)
    return {"case": case.name, "server": " ".join(case.server),
            "bench": " ".join(["-a", str(case.amount), *case.args]), "runs": runs,
            "exact": runs - len(bad), "failures": bad,
            "median_s": round(statistics.median(times), 3), "q1_s": round(q[0], 3),
            "q3_s": round(q[2], 3), "max_s": round(max(times), 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "load_stress"))
    opts = ap.parse_args()
    load0 = os.getloadavg()[0]
    with busy_core(0):
        rows = [stress(c, opts.runs) for c in CASES]
    meta = {"python": platform.python_version(), "date": time.strftime("%Y-%m-%d"),
            "runs": opts.runs, "busy_core": 0, "argv": sys.argv[1:],
            "loadavg_before": load0, "loadavg_after": os.getloadavg()[0]}
    Path(opts.out + ".json").write_text(json.dumps({"meta": meta, "cases": rows}, indent=1,
                                                   sort_keys=True) + "\n")
    lines = ["# Load generator endings under stress (bench/load_stress.py)", "",
             "    " + shlex.join(["python", "bench/load_stress.py", *meta["argv"]]), "",
             f"1-minute load average {meta['loadavg_before']:.2f} before, "
             f"{meta['loadavg_after']:.2f} after (the busy loop counts for 1).", "",
             f"{opts.runs} in-process `run_load` runs per case, a busy loop on core 0, "
             f"Python {meta['python']}, {meta['date']}. A run is exact when answered + failed "
             "equals the amount, nothing is in flight or unsent, only the server's own kinds "
             "of error appear, and (for servers that answer all) the server counted every "
             "request.", "",
             "| case | server | bench | exact runs | median s | IQR s | max s |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | `{r['server']}` | `{r['bench']}` | {r['exact']} of "
                     f"{r['runs']} | {r['median_s']:.3f} | {r['q1_s']:.3f}–{r['q3_s']:.3f} | "
                     f"{r['max_s']:.3f} |")
    for r in rows:
        for f in r["failures"][:5]:
            lines.append(f"- {r['case']} run {f['run']}: {'; '.join(f['problems'])}")
    Path(opts.out + ".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(r["exact"] == r["runs"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
