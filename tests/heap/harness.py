"""Capture a sample server under memray while driving it with real HTTP load.

This is ``memray run`` rather than ``pinkclinic heap``, so that the analysis can be
tested on its own: the same tracker as the probe's (temporal, not aggregated,
lz4-compressed on exit like the probe's ``FileDestination``), but started by memray's
launcher rather than on the first call into ``__main__``. It waits for the port,
drives load, then stops the target with SIGINT so memray finalises the file.

SIGINT is set back to its default in the target, as pinkclinic's exec gate does: a
test run started as a background job inherits an ignored SIGINT, Python then installs
no KeyboardInterrupt handler, and a stdlib server (list_leak.py) sat out the whole
stop timeout before being killed (24 s instead of 5, and a capture memray never
finalised). A target that does not stop on SIGINT is now an error, not a slow pass.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.heap.loadclient import drive
from tests.helpers import ROOT, free_port, stop_group, wait_port

HEAP_SAMPLES = ROOT / "samples" / "heap"


def memray_cmd(out: Path, target: list[str], *, follow_fork: bool = False,
               native: bool = False) -> list[str]:
    extra = ["--follow-fork"] * follow_fork + ["--native"] * native
    return [sys.executable, "-m", "memray", "run", "-q", *extra,
            "-o", str(out), "--force", *target]


def capture(sample: str, out_dir: Path, *, seconds: float = 3.0, connections: int = 2,
            env: dict | None = None, target: list[str] | None = None,
            follow_fork: bool = False, settle: float = 0.3) -> dict:
    """Run ``samples/heap/<sample>`` under memray, load it, stop it.

    Returns ``{"files": [capture paths], "window": (t0, t1), "ticks": [...],
    "requests": N}``.
    """
    port = free_port()
    out = out_dir / f"{Path(sample).stem}.bin"
    target = target or [str(HEAP_SAMPLES / sample), "--port", str(port)]
    log = out_dir / f"{Path(sample).stem}.log"
    with open(log, "wb") as logf:
        proc = subprocess.Popen(memray_cmd(out, [a.replace("{port}", str(port)) for a in target],
                                           follow_fork=follow_fork),
                                start_new_session=True, stdout=logf, stderr=subprocess.STDOUT,
                                cwd=ROOT, env={**os.environ, **(env or {})},
                                preexec_fn=_default_sigint)
    try:
        try:
            wait_port(port, 30, proc)
        except (RuntimeError, TimeoutError) as e:
            raise RuntimeError(f"{sample}: {e}\n{log.read_text(errors='replace')[-2000:]}") from None
        time.sleep(settle)
        load = drive(port, seconds, connections=connections)
        time.sleep(settle)
        if not stop(proc):
            raise RuntimeError(f"{sample} did not stop on SIGINT: memray's capture is not "
                               f"finalised\n{log.read_text(errors='replace')[-2000:]}")
    finally:
        stop_group(proc)
    files = sorted(out_dir.glob(out.name + "*"))
    if not files:
        raise RuntimeError(f"{sample} wrote no capture (exit {proc.returncode}): "
                           f"{log.read_text(errors='replace')[-2000:]}")
    return {"files": files, "returncode": proc.returncode, **load}


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop(proc: subprocess.Popen, timeout: float = 20.0) -> bool:
    """SIGINT the whole group (memray finalises on it); SIGKILL only if it hangs.
    True if SIGINT stopped it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        stop_group(proc)
        return False
    return True
