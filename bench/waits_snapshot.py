"""What one task snapshot costs the loop thread on a keep-alive server, where every
task waits in a stream read: the snapshot (``_waits.snapshot``), its record
(``_waits.record``) and the record's JSON, in µs of the thread's CPU time.

A child process (pinned to one core) runs an asyncio server with N idle keep-alive
connections (each handler task suspended in ``StreamReader.readuntil``), then times each
part over many calls, with the bootstrap folder of this tree (and, with ``--ref``, the
same folder at a git ref) first on its path. Rounds alternate the trees.

    flock -x /tmp/pinkclinic-cpu.lock python bench/waits_snapshot.py [--ref GIT_REF]
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
sys.path.insert(0, str(ROOT))

from bench.probe_hooks import extract  # noqa: E402

BOOTSTRAP = ROOT / "pinkclinic" / "bootstrap"
CORE = "0"
CHILD = """
import asyncio, json, sys, time
from pinkclinic_probe import _waits
N, CALLS = int(sys.argv[1]), int(sys.argv[2])

async def handle(reader, writer):
    try:
        while True:
            await reader.readuntil(b"\\r\\n\\r\\n")
    except Exception:
        pass

def timed(fn):
    t = time.thread_time()
    for _ in range(CALLS):
        fn()
    return (time.thread_time() - t) / CALLS * 1e6

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(N)]
    await asyncio.sleep(0.2)
    loop = asyncio.get_running_loop()
    tasks, live = _waits.sample(loop, 200)
    snap = _waits.snapshot(tasks, 200, live=live)
    rec = _waits.record(snap, 1, 0.1, 0.0001)
    out = {"tasks": live,
           "snapshot_us": timed(lambda: _waits.snapshot(tasks, 200, live=live)),
           "record_us": timed(lambda: _waits.record(snap, 1, 0.1, 0.0001)),
           "json_us": timed(lambda: json.dumps(rec, separators=(",", ":")))}
    for _, w in conns:
        w.close()
    server.close()
    print(json.dumps(out))

asyncio.run(main())
"""
PARTS = ("snapshot_us", "record_us", "json_us")


def run_child(tree: Path, n: int, calls: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PINKCLINIC_PROBE"}
    env["PYTHONPATH"] = str(tree)
    out = subprocess.run(["taskset", "-c", CORE, sys.executable, "-c", CHILD, str(n), str(calls)],
                         env=env, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise SystemExit(f"waits_snapshot: child failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", help="also measure the bootstrap as it was at this git ref")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--connections", default="10,100")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "waits_snapshot"))
    args = ap.parse_args()
    t0, load0 = time.monotonic(), os.getloadavg()[0]
    sizes = [int(x) for x in args.connections.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        if args.ref:
            trees[f"at {args.ref}"] = extract(args.ref, tmp)
        trees["this tree"] = BOOTSTRAP
        runs = {label: {n: [] for n in sizes} for label in trees}
        for _ in range(args.rounds):
            for label, tree in trees.items():
                for n in sizes:
                    runs[label][n].append(run_child(tree, n, args.calls))
    result = {"command": "flock -x /tmp/pinkclinic-cpu.lock python bench/waits_snapshot.py "
                         + " ".join(shlex.quote(a) for a in sys.argv[1:]),
              "minutes": (time.monotonic() - t0) / 60, "python": platform.python_version(),
              "load": [load0, os.getloadavg()[0]], "rounds": args.rounds,
              "runs": {label: {str(n): rows for n, rows in by_n.items()}
                       for label, by_n in runs.items()}}
    Path(args.out + ".json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    Path(args.out + ".md").write_text(render(result))
    print(render(result))


def render(r: dict) -> str:
    lines = ["# One task snapshot on a keep-alive server (bench/waits_snapshot.py)", "",
             f"Produced by `{r['command']}` in {r['minutes']:.1f} min (Python {r['python']}; "
             f"1-minute load average {r['load'][0]:.2f} before, {r['load'][1]:.2f} after). "
             f"Medians over {r['rounds']} rounds, (min..max) beside them; µs of the loop "
             "thread's CPU time per call.", "",
             "| tree | live tasks | snapshot | record | JSON | total |",
             "| --- | --- | --- | --- | --- | --- |"]
    for label, by_n in r["runs"].items():
        for rows in by_n.values():
            cells = []
            for part in PARTS:
                vals = [row[part] for row in rows]
                cells.append(f"{statistics.median(vals):.1f} ({min(vals):.1f}..{max(vals):.1f})")
            total = statistics.median(sum(row[p] for p in PARTS) for row in rows)
            lines.append(f"| {label} | {rows[0]['tasks']} | {' | '.join(cells)} | {total:.1f} |")
    lines += ["", "The server's own task (serve_forever) is one of the live tasks. Doctor "
              "takes a snapshot every 100 ms, slowed down to at most 1.5% of the loop "
              "thread's CPU time (`_watch.WAITS_OWN_SHARE`): a cheaper snapshot is more "
              "snapshots within that budget, or less CPU where the 100 ms rate is below it."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
