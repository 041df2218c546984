"""One side of a diff: a recording's CPU profile over its load window, and its requests.

* py-spy (flame, doctor): the samples inside the load window (the same window doctor's
  analyzers use, :class:`pinkclinic.analysis.data.RecordingData`), pinkclinic's own probe
  threads left out; one sample is ``1000 / rate_hz`` ms of CPU.
* pyinstrument (flame ``--profiler pyinstrument``): its seconds over the load window;
  the counting error is taken at its sampling interval (1 ms).

Requests are the answers the load got with a 2xx or 3xx status inside the window
(``load.jsonl``, each one-second bin prorated by its overlap), so failed requests never
make a function look cheaper. No load, or no served answer: ``requests`` is ``None`` and
the diff compares shares.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pinkclinic.analysis.data import RecordingData
from pinkclinic.diff.stacks import CpuStacks, of_profile, of_pyspy
from pinkclinic.errors import PinkError, UsageError
from pinkclinic.jsonio import read_json
from pinkclinic.profile import build_profile
from pinkclinic.profile.areas import AreaClassifier
from pinkclinic.recording import Recording

PYINSTRUMENT_INTERVAL_MS = 1.0


@dataclass
class CpuSide:
    rec: Recording
    stacks: CpuStacks | None   # its busy CPU stacks in the window (None: no samples)
    ms_per_sample: float
    requests: float | None
    window_s: float | None
    notes: list[str] = field(default_factory=list)
    cpu_from: str = "samples"   # "kernel": samples scaled to the tree's CPU time

    @property
    def busy(self) -> float:
        """Its CPU samples (idle ones left out)."""
        return self.stacks.busy if self.stacks is not None else 0.0

    @property
    def name(self) -> str:
        return str(self.rec.manifest.get("name") or self.rec.path.name)


def open_recording(path: str | os.PathLike) -> Recording:
    p = Path(path)
    if not p.exists():
        raise UsageError(f"{p}: no such recording")
    return Recording.open(p)


def served(rows: list[dict], window) -> float:
    """2xx/3xx answers in ``window`` (bins prorated by overlap); all rows if no window."""
    total = 0.0
    for r in rows:
        ok = sum(int(n) for s, n in (r.get("status") or {}).items()
                 if str(s).isdigit() and 200 <= int(s) < 400)
        dur = float(r.get("dur_s") or 1.0)
        t = r.get("t")
        if window is None or not isinstance(t, (int, float)) or dur <= 0:
            total += ok
        else:
            total += ok * window.overlap(t, t + dur) / dur
    return total


def calibrated(data: RecordingData, busy: float, ms: float) -> tuple[float, str]:
    """Milliseconds of CPU per sample: the tree's CPU time in the window (the kernel's
    accounting, ``processes.jsonl``) over the CPU samples in it, when it was recorded.

    py-spy counts a thread as active when the kernel shows it running *or runnable*, so on
    a busy machine its samples also hold time spent waiting for a core; the kernel's CPU
    time does not. Spread over the samples, it gives each function its CPU time.
    """
    cpu, w = data.cpu, data.window
    if cpu is None or w is None or not cpu.samples or busy <= 0 or cpu.total_mean <= 0:
        return ms, "samples"
    return cpu.total_mean * w.duration * 1000.0 / busy, "kernel"


def cpu_side(rec: Recording) -> CpuSide:
    data = RecordingData(rec)
    notes: list[str] = []
    source = "samples"
    window = data.window
    profiler = (rec.manifest.get("options", {}).get("extra", {}) or {}).get("profiler")
    if profiler == "pyinstrument":
        profile = build_profile(rec)
        ms = PYINSTRUMENT_INTERVAL_MS
        # weights are seconds: turn them into 1 ms samples, so the counts mean counts
        for v in profile.stacks.values():
            v[0] = v[0] * 1000.0 / ms
        stacks = of_profile(profile)
    else:
        threads = data.pyspy_threads
        stacks = of_pyspy(threads, None if window is None else (window.start, window.end))
        if stacks is None and threads:  # not read_timed's shape: the Profile, slower
            profile = data.window_profile
            stacks = None if profile is None else of_profile(profile)
        rate = float((rec.manifest.get("streams", {}).get("pyspy") or {}).get("rate_hz") or 100)
        ms = 1000.0 / rate
        if stacks is None:
            notes.append("no py-spy samples in its load window")
        else:
            ms, source = calibrated(data, stacks.busy, ms)
    rows = data.load_timeline
    requests = served(rows, window) if rows else None
    if not rows:
        notes.append("no load results (recorded without pinkclinic's load)")
    elif not requests:
        notes.append("its load got no 2xx/3xx answer")
        requests = None
    return CpuSide(rec, stacks, ms, requests or None,
                   window.duration if window is not None else None, notes, source)


def _side_at(path: str) -> tuple[CpuSide | None, tuple | None]:
    """:func:`cpu_side` in a worker process: the side without its recording (which holds a
    lock), or the error's (message, exit code), which a bare PinkError would not pickle."""
    try:
        side = cpu_side(Recording.open(path))
    except PinkError as e:
        return None, (e.message, e.exit_code)
    side.rec = None
    return side, None


def cpu_sides(base: Recording, new: Recording) -> tuple[CpuSide, CpuSide]:
    """Both sides, BASE read in a forked worker while this process reads NEW.

    Each side reads and counts its own py-spy file (~2 s of one core at 1M samples); the
    two are independent, so on two free cores the pair takes the time of one. The worker
    sends back the side's busy stacks (:class:`~pinkclinic.diff.stacks.CpuStacks`). One core,
    or no ``fork``, or other threads running (``--baseline`` after a run: a thread could
    hold a lock the forked copy would wait on forever): one after the other."""
    if not can_fork():
        return cpu_side(base), cpu_side(new)
    # the installed distributions (code areas) are read once, here, and the worker inherits
    # them: ~0.25 s that both would spend, which on a busy machine is not in parallel
    AreaClassifier()
    with ProcessPoolExecutor(1, mp_context=mp.get_context("fork")) as pool:
        far = pool.submit(_side_at, str(base.path))
        near = cpu_side(new)
        side, err = far.result()
    if err is not None:
        raise PinkError(*err)
    side.rec = base
    return side, near


def can_fork() -> bool:
    """Whether work can go to a forked worker: two cores, ``fork``, and no other thread (a
    thread could hold a lock the forked copy would wait on forever)."""
    return ((os.cpu_count() or 1) >= 2 and "fork" in mp.get_all_start_methods()
            and threading.active_count() == 1)


_JOB = None  # what the forked worker of :func:`side_by_side` runs: inherited, not pickled


def _run_job():
    return _JOB()


def side_by_side(far, near) -> tuple:
    """``(far(), near())``, ``far`` in a forked worker while this process runs ``near``:
    the worker has this process's memory, so only ``far``'s result is pickled."""
    global _JOB
    if not can_fork():
        return far(), near()
    _JOB = far
    try:
        with ProcessPoolExecutor(1, mp_context=mp.get_context("fork")) as pool:
            job = pool.submit(_run_job)
            mine = near()
            return job.result(), mine
    finally:
        _JOB = None


def analysed(rec: Recording, name: str) -> dict:
    """A side's analysis result ``name`` (``diagnosis.json``, ``heap.json``), or one clear error."""
    path = rec.file(name)
    if not path.exists():
        raise PinkError(f"{rec.path} has no {name}; run `pinkclinic report {rec.path}` "
                        "to analyse it first")
    try:
        return read_json(path)
    except (OSError, ValueError) as e:
        raise PinkError(f"{path} cannot be read: {e}") from None
