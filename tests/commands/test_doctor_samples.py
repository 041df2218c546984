"""doctor on every sample server: the verdict and the culprit it must name.

Each case is a real run: the sample is launched by pinkclinic, loaded for a
few seconds by its own load generator, recorded by psutil, py-spy and the
in-process probe, then analysed. These are the data the thresholds in
pinkclinic/analysis were tuned on.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.commands.doctor_run import check_diagnosis
from tests.helpers import SAMPLES, run_cli

# The thresholds are tested on synthetic recordings (tests/analysis); these runs check the
# wiring, so their loads are short: 3 s, and 4 s for the leaks, whose growth over the
# window must pass a floor.
LOAD = "-c 10 -d 3"
LEAK_LOAD = "-c 10 -d 4"

CASES = [
    # sample, command, verdict, culprit function (None: no culprit is expected)
    ("healthy_starlette", [sys.executable, str(SAMPLES / "healthy_starlette.py")], "healthy", None),
    # loop_cpu_starlette runs in tests/commands/test_doctor_report.py (from a hostile folder)
    ("loop_cpu_aiohttp", [sys.executable, str(SAMPLES / "loop_cpu_aiohttp.py")], "loop-cpu", "hash_password"),
    ("blocking_starlette", [sys.executable, str(SAMPLES / "blocking_starlette.py")], "loop-blocking-call", "fetch_exchange_rates"),
    ("blocking_aiohttp", [sys.executable, str(SAMPLES / "blocking_aiohttp.py")], "loop-blocking-call", "lookup_session"),
    # future.result() blocks the loop in Condition.wait: a wait, but not the loop's own
    ("blocking_future_aiohttp", [sys.executable, str(SAMPLES / "blocking_future_aiohttp.py")],
     "loop-blocking-call", "get_profile"),
    ("io_wait_starlette", [sys.executable, str(SAMPLES / "io_wait_starlette.py")], "io-wait", "query_inventory"),
    ("gc_starlette", [sys.executable, str(SAMPLES / "gc_starlette.py")], "gc-pressure", "build_search_index"),
    # requests queue inside the process: an asyncio.Lock held across a call, an executor of 2
    ("lock_contention_aiohttp", [sys.executable, str(SAMPLES / "lock_contention_aiohttp.py")],
     "lock-contention", "current_token"),
    ("pool_exhausted_starlette", [sys.executable, str(SAMPLES / "pool_exhausted_starlette.py")],
     "pool-exhausted", "load_invoice"),
    ("leak_starlette", [sys.executable, str(SAMPLES / "leak_starlette.py")], "memory-leak", None),
    ("leak_flask", [sys.executable, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:0", "--chdir",
                    str(SAMPLES), "leak_flask:app"], "memory-leak", None),
    ("io_wait_flask", [sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "4", "-b", "127.0.0.1:0",
                       "--chdir", str(SAMPLES), "io_wait_flask:app"], "io-wait", "call_upstream"),
    # threads serialised on a threading.Lock around a 10 ms call
    ("lock_contention_flask", [sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "8", "-b",
                               "127.0.0.1:0", "--chdir", str(SAMPLES), "lock_contention_flask:app"],
     "lock-contention", "fetch_account"),
    ("gil_flask", [sys.executable, "-m", "gunicorn", "-k", "gthread", "--threads", "8", "-b", "127.0.0.1:0",
                   "--chdir", str(SAMPLES), "gil_flask:app"], "gil-contention", "score_candidates"),
    # sync endpoints in anyio's thread pool: the loop thread, starved of the GIL, lags
    ("gil_fastapi", [sys.executable, str(SAMPLES / "gil_fastapi.py")], "gil-contention",
     "compute_recommendations"),
    ("healthy_flask", [sys.executable, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:0", "--chdir",
                       str(SAMPLES), "healthy_flask:app"], "healthy", None),
    # a metrics thread asleep in time.sleep looks busy to py-spy: it must not read as the GIL
    ("healthy_aiohttp", [sys.executable, str(SAMPLES / "healthy_aiohttp.py")], "healthy", None),
    ("gc_aiohttp", [sys.executable, str(SAMPLES / "gc_aiohttp.py")], "gc-pressure", "parse_order"),
]


def run_doctor(tmp_path: Path, name: str, command: list[str], *extra: str):
    env = {**os.environ, "PORT": "0"}
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", name, *extra, "--", *command,
                   timeout=150, env=env)
    rec = tmp_path / f"{name}.pinkclinic-doctor"
    return proc, rec


@pytest.mark.slow
@pytest.mark.parametrize("name,command,verdict,culprit", CASES, ids=[c[0] for c in CASES])
def test_doctor_names_the_category_and_the_culprit(tmp_path, name, command, verdict, culprit):
    proc, rec = run_doctor(tmp_path, name, command, "--load",
                           LEAK_LOAD if verdict == "memory-leak" else LOAD)
    assert proc.returncode == 0, proc.stderr[-3000:]
    if name == "healthy_flask":  # whatever the verdict: the run is the multi-process one
        check_workers_charted_per_process(rec, tmp_path / f"{name}.pinkclinic-doctor.html")
    check_diagnosis(proc, rec, verdict, culprit)
    html = (tmp_path / f"{name}.pinkclinic-doctor.html").read_text()
    assert "pinkclinic_probe" not in html  # the flame graph leaves pinkclinic's own threads out
    if name == "healthy_aiohttp":
        check_sleeping_thread_is_not_busy(rec)


def check_workers_charted_per_process(rec: Path, html_path: Path) -> None:
    """gunicorn's master and both workers: each sampled, probed, and charted on its own."""
    import html as html_mod
    import re

    rows = [json.loads(line) for line in (rec / "processes.jsonl").read_text().splitlines()[1:]]
    names = {r["pid"]: r["name"] for r in rows if "name" in r}
    assert len(names) >= 3, names  # the master and both workers
    assert len(list(rec.glob("probe-*.jsonl"))) >= 3  # the probe runs in forked workers too
    m = re.search(r'<script type="application/json" id="pc-charts">(.*?)</script>',
                  html_path.read_text(), re.S)
    charts = {c["id"]: c for c in json.loads(html_mod.unescape(m.group(1)))["charts"]}
    # CPU and memory: a total, then one series per process, each with its own points
    cpu = {s["name"]: s["points"] for s in charts["cpu"]["series"]}
    rss = {s["name"]: s["points"] for s in charts["memory"]["series"]}
    assert "total" in cpu and "RSS total" in rss
    for pid, name in names.items():
        assert cpu[f"{name} {pid}"], (pid, sorted(cpu))
        assert rss[f"RSS {name} {pid}"], (pid, sorted(rss))
    # the workers served requests: their CPU rose above zero at some point
    assert sum(1 for pid, name in names.items() if max(v for _, v in cpu[f"{name} {pid}"]) > 0) >= 2


def check_sleeping_thread_is_not_busy(rec: Path) -> None:
    """The report's CPU flame graph shows the metrics thread, asleep in time.sleep, as
    waiting: the kernel saw it blocked, whatever its Python leaf frame says."""
    from pinkclinic.analysis.data import RecordingData
    from pinkclinic.recording import Recording
    from pinkclinic.render.doctor_flame import cpu_profile

    profile = cpu_profile(RecordingData(Recording.open(rec)))
    metrics = [i for i, t in enumerate(profile.threads) if t.name == "metrics"]
    assert metrics, profile.threads
    assert sum(w for _, _, w, _ in profile.iter_stacks(idle=True, threads=metrics)) > 0
    assert sum(w for _, _, w, _ in profile.iter_stacks(idle=False, threads=metrics)) == 0
