"""The doctor part of a diff: issues resolved, new and persisting, and the run's figures
side by side.

Issues are matched by category (``loop-cpu``, ``memory-leak``...), from each recording's
``diagnosis.json`` (written by doctor; re-made by ``pinkclinic report``). Figures come
from the same window as the analyzers: req/s and latency from the load, loop lag, GC
share and memory growth from the findings' evidence, CPU per request from the process
samples (every process of the tree) over the served requests.
"""

from __future__ import annotations

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.diagnose import DIAGNOSIS_FILE
from pinkclinic.diff.sides import analysed, served
from pinkclinic.recording import Recording

# key, label, unit, which way is better ("lower" or "higher")
METRICS = (
    ("rps", "req/s", "req/s", "higher"),
    ("p50_ms", "p50 latency", "ms", "lower"),
    ("p99_ms", "p99 latency", "ms", "lower"),
    ("loop_lag_p50_ms", "loop lag p50", "ms", "lower"),
    ("loop_lag_max_ms", "loop lag max", "ms", "lower"),
    ("loop_stall_share", "loop stalled", "share", "lower"),
    ("gc_share", "GC share", "share", "lower"),
    ("cpu_ms_per_request", "CPU per request", "ms", "lower"),
    ("memory_growth_bytes", "memory growth", "bytes", "lower"),
    ("memory_bytes_per_request", "memory per request", "bytes", "lower"),
)


def diagnosis(rec: Recording) -> dict:
    return analysed(rec, DIAGNOSIS_FILE)


def _evidence(diag: dict, signal: str) -> dict:
    for f in diag.get("findings") or []:
        if f.get("signal") == signal:
            return f.get("evidence") or {}
    return {}


def figures(rec: Recording, diag: dict) -> dict:
    """The side's figures (``None`` where not measured)."""
    data = RecordingData(rec)
    lr = data.load_result or {}
    lat = lr.get("latency") or {}
    dur = lr.get("duration")
    ok = (lr.get("2xx") or 0) + (lr.get("3xx") or 0)
    loop, gc, mem = (_evidence(diag, s) for s in ("loop", "gc", "memory"))
    cpu = data.cpu
    w = data.window
    requests = served(data.load_timeline, w) if data.load_timeline else 0
    cpu_ms = None
    if cpu is not None and w is not None and requests:
        cpu_ms = cpu.total_mean * w.duration * 1000 / requests
    out = {
        "rps": ok / dur if lr and dur else None,
        "p50_ms": lat.get("p50") if lr else None,
        "p99_ms": lat.get("p99") if lr else None,
        "loop_lag_p50_ms": loop.get("lag_p50_ms"),
        "loop_lag_max_ms": loop.get("lag_max_ms"),
        "loop_stall_share": loop.get("stall_share"),
        "gc_share": gc.get("gc_share", 0.0 if gc.get("collections") == 0 else None),
        "cpu_ms_per_request": cpu_ms,
        "memory_growth_bytes": mem.get("growth_bytes"),
        "memory_bytes_per_request": mem.get("bytes_per_request"),
    }
    return {k: (None if v is None else round(float(v), 4)) for k, v in out.items()}


def _change(b: float | None, n: float | None) -> float | None:
    if b is None or n is None or b == 0:
        return None
    return round((n - b) / abs(b), 4)


def doctor_diff(base: Recording, new: Recording) -> dict:
    db, dn = diagnosis(base), diagnosis(new)
    ib = {i.get("category"): i for i in db.get("issues") or []}
    inn = {i.get("category"): i for i in dn.get("issues") or []}

    def brief(i: dict) -> dict:
        return {"category": i.get("category"), "summary": i.get("summary", ""),
                "severity": i.get("severity"),
                "culprits": [c.get("function") for c in (i.get("culprits") or [])[:3]]}

    fb, fn = figures(base, db), figures(new, dn)
    metrics = [{"metric": k, "label": label, "unit": unit, "better": better,
                "base": fb[k], "new": fn[k], "change": _change(fb[k], fn[k])}
               for k, label, unit, better in METRICS]
    return {
        "verdict": {"base": db.get("verdict"), "new": dn.get("verdict")},
        "issues": {
            "resolved": [brief(ib[c]) for c in sorted(set(ib) - set(inn))],
            "new": [brief(inn[c]) for c in sorted(set(inn) - set(ib))],
            "persisting": [{**brief(inn[c]), "base_severity": ib[c].get("severity")}
                           for c in sorted(set(ib) & set(inn))],
        },
        "metrics": metrics,
    }
