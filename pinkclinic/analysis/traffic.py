"""Was the server really exercised? The load's answers, or signs of traffic without one.

With pinkclinic's own load (``load.jsonl``), a window in which nothing was answered, or
in which most answers were failures (4xx/5xx responses, refused or reset
connections, timeouts), says nothing about the server's normal work: a load that
hits a wrong path measures a 404 handler. Without it (``--no-load``, ``--on-port``)
the requests are not counted, and a server whose busiest process stayed under
:data:`NO_TRAFFIC_CPU` on average saw no traffic worth diagnosing.

Either way the finding is ``insufficient-data`` with the reason; ``diagnose`` makes
it the verdict when no issue was found, and a warning next to one otherwise.
"""

from __future__ import annotations

from collections import Counter

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.finding import NONE, Finding, insufficient

# Share of failed answers (4xx, 5xx, connection errors, timeouts) at or above which the
# load did not exercise the server's normal work.
LOAD_ERROR_SHARE = 0.5
# Without pinkclinic's load: the busiest process's mean CPU (cores) under which the
# server saw too little traffic to judge. Measured idle here, with the probe, over 4 s
# of --no-load: uvicorn 0.9%, aiohttp 0.7%, the gunicorn master 1.2% (-w 2 sync and
# gthread); healthy_starlette at 20 req/s also used 1.0%: too little to tell from idle,
# and too little to diagnose. The p90 of 100 ms steps is no use at this level: a single
# 10 ms CPU tick in a step reads 10%.
NO_TRAFFIC_CPU = 0.02


def failures(rows: list[dict]) -> tuple[int, int, Counter]:
    """(answers, failed, failures by kind) over ``load.jsonl`` rows."""
    kinds: Counter = Counter()
    answers = 0
    for r in rows:
        answers += int(r.get("requests", 0))
        for status, n in (r.get("status") or {}).items():
            if int(status) >= 400:
                kinds[str(status)] += int(n)
        if r.get("errors"):
            kinds["connection errors"] += int(r["errors"])
    return answers, sum(kinds.values()), kinds


def analyse(data: RecordingData) -> Finding:
    w = data.window
    rows = data.load_timeline
    if rows:
        inside = [r for r in rows if w is None or w.contains(r.get("t", 0) + 0.5 * r.get("dur_s", 1))]
        answers, failed, kinds = failures(inside or rows)
        attempts = answers + kinds["connection errors"]
        evidence = {"answers": answers, "failed": failed,
                    "failed_by_kind": dict(sorted(kinds.items()))}
        if attempts == 0:
            return insufficient("traffic", "the load got no answer at all", **evidence)
        if answers == 0:
            return insufficient("traffic", f"every one of the load's {attempts:,} connections "
                                "failed; the server answered nothing", **evidence)
        share = failed / attempts
        evidence["failed_share"] = round(share, 4)
        if share >= LOAD_ERROR_SHARE:
            top = ", ".join(f"{k}: {n:,}" for k, n in kinds.most_common(3))
            return insufficient("traffic", f"{failed:,} of the load's {attempts:,} requests "
                                f"failed ({top}), so the server's normal work was hardly "
                                "exercised", **evidence)
        return Finding(signal="traffic", status=NONE, evidence=evidence,
                       summary=f"{answers:,} answers, {100 * share:.1f}% failed")
    usage = data.cpu
    if usage is None:
        return Finding(signal="traffic", status=NONE, summary="no CPU samples to judge traffic by")
    busiest = max(p["mean"] for p in usage.per_process.values())
    evidence = {"cpu_busiest_mean": busiest}
    if busiest < NO_TRAFFIC_CPU:
        return insufficient("traffic", f"no sign of traffic, or too little to judge: the "
                            f"busiest process used {100 * busiest:.1f}% CPU during the "
                            "recording (an idle server uses about 1%)", **evidence)
    return Finding(signal="traffic", status=NONE, evidence=evidence,
                   summary="requests were not counted (the load was not pinkclinic's)")
