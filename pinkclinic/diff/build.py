"""``diff_recordings(BASE, NEW)``: open two recordings, check that they compare, and
build the comparison (a JSON-able dict; the tree for the page is kept beside it).

Refused with one line (exit 2): a missing recording, one from a newer pinkclinic, an
empty one (no CPU samples in its load window), one of a kind the diff does not compare
(waits), two of different kinds or of different targets (``force`` compares these anyway).
"""

from __future__ import annotations

import gc
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pinkclinic.diff.cpu import cpu_diff
from pinkclinic.diff.doctor import doctor_diff
from pinkclinic.diff.merged import merge
from pinkclinic.diff.merged import removed as removed_paths
from pinkclinic.diff.sides import CpuSide, cpu_sides, open_recording, side_by_side
from pinkclinic.diff.tree import diff_tree
from pinkclinic.errors import PinkError, UsageError
from pinkclinic.recording import Recording

SCHEMA_VERSION = 1
CPU_KINDS = ("flame", "doctor")
COMPARED = (*CPU_KINDS, "heap")  # the kinds a diff compares (not waits, yet)
NOISY = 2.0  # a dispersion (diff.stats) worth a warning


@dataclass
class Diff:
    data: dict                 # what --json prints
    tree: dict | None          # the differential flame graph's nodes (CPU kinds)
    removed: dict | None       # the same, of BASE's stacks that NEW no longer runs
    base: Recording
    new: Recording


def _open(path: str | os.PathLike, role: str) -> Recording:
    try:
        return open_recording(path)
    except UsageError:
        raise
    except PinkError as e:  # newer schema, unreadable manifest: bad input, exit 2
        raise UsageError(f"{role}: {e.message}") from None


def target_of(rec: Recording) -> str:
    """What was profiled, as the user would name it: the command without its interpreter
    (``python app.py --x`` -> ``app.py --x``), else the attached process's command."""
    cmd = list(rec.manifest.get("command") or [])
    if cmd and Path(cmd[0]).name.startswith(("python", "pypy")):
        cmd = cmd[1:]
        if cmd[:1] == ["-m"]:
            cmd = cmd[1:]
    return " ".join(cmd)


def check_kind(kind: str) -> None:
    """A kind the diff has nothing to compare for is refused, ``--force`` or not."""
    if kind not in COMPARED:
        raise UsageError(f"diff does not compare {kind} recordings yet (only "
                         f"{', '.join(COMPARED)})")


def check_pair(base: Recording, new: Recording, force: bool) -> list[str]:
    """Refusals (raised) unless ``force``; returns the warnings that ``force`` let pass."""
    for rec in (base, new):
        check_kind(rec.kind)
    problems = []
    if base.kind != new.kind:
        problems.append(f"BASE is a {base.kind} recording and NEW a {new.kind} one")
    tb, tn = target_of(base), target_of(new)
    if tb and tn and tb != tn:
        problems.append(f"they profile different targets ({tb!r} and {tn!r})")
    if problems and not force:
        raise UsageError(f"cannot compare: {problems[0]}; --force compares them anyway")
    return problems


def _describe(rec: Recording) -> dict:
    m = rec.manifest
    return {"path": str(rec.path), "name": m.get("name"), "kind": rec.kind,
            "target": target_of(rec), "created": (m.get("timings") or {}).get("created"),
            "outcome": (m.get("status") or {}).get("outcome")}


def _cpu(base: Recording, new: Recording, data: dict, warnings: list) -> tuple:
    """The CPU comparison into ``data``; (the tree, the removed tree or None)."""
    sides = cpu_sides(base, new)
    for role, side in zip(("BASE", "NEW"), sides, strict=True):
        if side.stacks is None or side.busy == 0:
            raise UsageError(f"{role} {side.rec.path} is empty: no CPU samples in its load "
                             "window")
        warnings.extend(f"{role}: {n}" for n in side.notes)
    merged = merge(*sides)
    cpu = cpu_diff(*sides, merged)
    data.update(cpu)
    if cpu["normalised_by"] == "share":
        warnings.append("a side has no load results: shares of each side's CPU samples "
                        "are compared, not CPU per request")
    if cpu["dispersion"] >= NOISY:
        warnings.append(f"the samples vary {cpu['dispersion']:.1f}x as much as counting "
                        "noise (a busy machine, or bursty work): the intervals are widened "
                        "by it; a longer load or a quieter machine narrows them")
    per_request = cpu["normalised_by"] == "request"

    def removed_tree():  # BASE's stacks NEW never ran, against nothing
        gone = removed_paths(merged)
        if gone is None:
            return None
        nothing = CpuSide(None, None, sides[1].ms_per_sample, sides[1].requests, None)
        return diff_tree(sides[0], nothing, per_request=per_request, phi=cpu["dispersion"],
                         merged=gone)

    # the two trees are independent: at 1M samples each is ~0.5 s, so one goes to a worker
    removed, tree = side_by_side(removed_tree, lambda: diff_tree(
        *sides, per_request=per_request, phi=cpu["dispersion"], merged=merged))
    for role, side in zip(("base", "new"), sides, strict=True):
        data[role].update(requests=None if side.requests is None else round(side.requests, 1),
                          window_s=None if side.window_s is None else round(side.window_s, 3),
                          ms_per_sample=round(side.ms_per_sample, 4),
                          cpu_time_from=side.cpu_from)
    return tree, removed


@contextmanager
def _collector_paused():
    """The CPU comparison makes millions of tuples and lists, and no reference cycle: the
    cyclic garbage collector would only walk them over and over (~10% of its time at 1M
    samples). The worker that reads BASE is forked inside, so it runs without it too."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def diff_recordings(base_path: str | os.PathLike, new_path: str | os.PathLike, *,
                    force: bool = False) -> Diff:
    base, new = _open(base_path, "BASE"), _open(new_path, "NEW")
    warnings = [f"compared anyway (--force): {p}" for p in check_pair(base, new, force)]
    data: dict = {"schema_version": SCHEMA_VERSION, "kind": new.kind,
                  "base": _describe(base), "new": _describe(new)}
    tree = removed = None
    if new.kind in CPU_KINDS and base.kind in CPU_KINDS:
        with _collector_paused():
            tree, removed = _cpu(base, new, data, warnings)
    if base.kind == new.kind == "doctor":
        data["doctor"] = doctor_diff(base, new)
    if new.kind == "heap" or base.kind == "heap":
        from pinkclinic.diff.heap import heap_diff

        data["heap"] = heap_diff(base, new)
    data["warnings"] = warnings
    return Diff(data, tree, removed, base, new)
