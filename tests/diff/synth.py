"""Recordings built in tests (no processes): a flame or doctor recording whose py-spy
samples, load and CPU time are chosen, for the diff's rules and its page."""

from __future__ import annotations

import json
import random
from pathlib import Path

from pinkclinic.jsonio import write_json

FILE = "/srv/app/shop.py"
ROOT = [("<module>", FILE, 70), ("run", "/usr/lib/python3.11/asyncio/runners.py", 190),
        ("handle", FILE, 40)]
RATE = 100
T0 = 1_800_000_000.0


def make_recording(dest: Path, name: str, funcs: dict[str, int], *, requests: int | None,
                   kind: str = "flame", command=("python", "shop.py"), seed: int = 1,
                   cpu_ms: float | None = None, diagnosis: dict | None = None,
                   schema_version: int = 1) -> Path:
    """``funcs``: function -> samples (each a stack ROOT + that function), interleaved at
    random through the run. ``requests``: 2xx answers over the run (None: no load).
    ``cpu_ms``: the tree's CPU time over the run (processes.jsonl), if any."""
    path = dest / f"{name}.pinkclinic-{kind}"
    path.mkdir(parents=True)
    frames = [{"name": f, "file": fi, "line": ln} for f, fi, ln in ROOT]
    order = []
    for i, (fn, n) in enumerate(sorted(funcs.items())):
        frames.append({"name": fn, "file": FILE, "line": 100 + i})
        order += [len(frames) - 1] * n
    random.Random(seed).shuffle(order)
    samples = [[0, 1, 2, leaf] for leaf in order]
    dur = max(len(samples) / RATE, 1.0)
    doc = {"$schema": "https://www.speedscope.app/file-format-schema.json",
           "shared": {"frames": frames},
           "profiles": [{"type": "sampled", "name": 'Process 4242 Thread 4242 "MainThread"',
                         "unit": "seconds", "startValue": 0, "endValue": dur,
                         "samples": samples, "weights": [1 / RATE] * len(samples)}]}
    (path / "pyspy.speedscope.json").write_text(json.dumps(doc))
    streams = {"pyspy": {"file": "pyspy.speedscope.json", "format": "speedscope",
                         "rate_hz": RATE, "started": T0, "pid": 4242, "subprocesses": True,
                         "native": False, "idle": kind == "doctor", "schema_version": 1}}
    if requests is not None:
        rows = [{"schema_version": 1, "stream": "load", "url": "http://127.0.0.1:1/"}]
        secs = int(dur + 0.999)
        for s in range(secs):
            share = min(1.0, dur - s)
            rows.append({"t": T0 + s, "dur_s": share, "requests": requests * share / dur,
                         "status": {"200": requests * share / dur}, "errors": 0})
        (path / "load.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        streams["load"] = {"file": "load.jsonl", "format": "jsonl", "schema_version": 1}
    if cpu_ms is not None:
        rows = [{"schema_version": 1, "stream": "processes", "interval_ms": 100,
                 "root_pid": 4242, "cpu_count": 2}]
        steps = int(dur * 10)
        for k in range(steps + 1):
            used = cpu_ms / 1000 * k / steps
            rows.append({"t": T0 + k * dur / steps, "pid": 4242, "ppid": 1, "name": "python",
                         "cpu_user_s": used, "cpu_system_s": 0.0, "rss": 1 << 24})
        (path / "processes.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        streams["processes"] = {"file": "processes.jsonl", "format": "jsonl", "schema_version": 1}
    timings = {"created": T0 - 1, "launched": T0 - 0.5, "listening": T0, "stopping": T0 + dur,
               "stopped": T0 + dur, "finished": T0 + dur}
    if requests is not None:
        timings.update(load_start=T0, load_end=T0 + dur)
    write_json(path / "manifest.json", {
        "schema_version": schema_version, "kind": kind, "name": name, "command": list(command),
        "cwd": "/srv/app", "argv": [], "options": {"extra": {}}, "versions": {},
        "target": {"pid": 4242}, "timings": timings,
        "status": {"outcome": "completed"}, "streams": streams})
    if diagnosis is not None:
        write_json(path / "diagnosis.json", {"schema_version": 1, "findings": [], "warnings": [],
                                             **diagnosis})
    return path
