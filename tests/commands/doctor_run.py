"""Helpers for tests that run `pinkclinic doctor` (and flame/heap) as a real subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from tests.commands.culprit_stacks import check_culprits
from tests.helpers import pinkclinic_cmd


def start(tool: str, dest: Path, name: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    """Start ``pinkclinic TOOL --dest DEST --name NAME ARGS`` in the background."""
    return subprocess.Popen(pinkclinic_cmd(tool, "--dest", str(dest), "--name", name, *args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PORT": "0", **(env or {})})


def wait_for(predicate, timeout: float = 60.0, proc: subprocess.Popen | None = None, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            _out, err = proc.communicate()
            raise AssertionError(f"pinkclinic exited ({proc.returncode}) before {what}:\n{err[-2000:]}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def load_lines(rec: Path) -> int:
    path = rec / "load.jsonl"
    try:
        return max(0, len(path.read_text().splitlines()) - 1)
    except OSError:
        return 0


def manifest(rec: Path) -> dict:
    return json.loads((rec / "manifest.json").read_text())


def finish(proc: subprocess.Popen, sig: int | None = None, timeout: float = 90) -> tuple[str, str]:
    if sig is not None:
        proc.send_signal(sig)
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        _out, err = proc.communicate()
        raise AssertionError(f"pinkclinic did not finish within {timeout}s:\n{err[-2000:]}") from None


def check_diagnosis(proc, rec: Path, verdict: str, culprit: str | None) -> dict:
    """The verdict and its culprit, in diagnosis.json and in the terminal's summary; every
    finding's culprits by the one rule (:func:`tests.commands.culprit_stacks.check_culprits`)."""
    assert proc.returncode == 0, proc.stderr[-3000:]
    diagnosis = json.loads((rec / "diagnosis.json").read_text())
    findings = {f["signal"]: (f["status"], f["summary"]) for f in diagnosis["findings"]}
    assert diagnosis["verdict"] == verdict, (diagnosis["summary"], findings)
    if culprit:
        top = diagnosis["issues"][0]["culprits"]
        assert top and top[0]["function"] == culprit, top
        assert top[0]["file"].endswith(".py") and top[0]["line"] > 0
        assert culprit in proc.stdout
    else:  # the summary must not show another issue's culprits under this verdict
        assert "culprits:" not in proc.stdout, proc.stdout
    assert verdict in proc.stdout
    for issue in diagnosis["issues"]:  # where the server was started is never a culprit
        assert all(c["function"] != "<module>" for c in issue["culprits"]), issue
    for f in diagnosis["findings"]:  # a part is never larger than its whole (issue 14)
        ev = f["evidence"]
        if f["signal"] == "loop" and "stall_in_gc_s" in ev:
            assert abs(ev["stall_s"] - ev["stall_in_gc_s"] - ev["stall_outside_gc_s"]) <= 0.002, ev
    if verdict == "gc-pressure" and any(i["category"] in ("loop-cpu", "loop-blocking-call")
                                        for i in diagnosis["issues"]):
        assert "of the event loop's stalled time" in diagnosis["summary"], diagnosis["summary"]
    check_culprits(diagnosis, rec)
    check_cpu_rates(rec)
    return diagnosis


def check_cpu_rates(rec: Path) -> None:
    """CPU per process over 100 ms steps stays within the machine (10 ms CPU ticks over
    back-to-back samples once read as 900%), before any capping."""
    from pinkclinic.analysis.cpu import cpu_rates
    from pinkclinic.analysis.data import RecordingData
    from pinkclinic.recording import Recording

    data = RecordingData(Recording.open(rec))
    for pid, samples in data.processes.items():
        top = max((v for _, v in cpu_rates(samples)), default=0.0)
        assert top <= data.cpu_count + 0.25, (pid, top)
