"""The ``--json`` object of a WebSocket run: bench's shape (messages counted as requests,
no HTTP status classes), plus the connects, close codes and refused handshakes."""

from __future__ import annotations

from pinkclinic.load.core.result import LoadResult
from pinkclinic.load.core.stats import counter_percentiles, ms


def connect_summary(us: list[int]) -> dict:
    counts: dict[int, int] = {}
    for v in us:
        counts[v] = counts.get(v, 0) + 1
    p50, p99 = counter_percentiles(counts, (50, 99))
    return {"count": len(us), "p50": ms(p50), "p99": ms(p99), "max": ms(max(us) if us else 0),
            "mean": ms(sum(us) / len(us)) if us else 0.0}


def ws_json(r: LoadResult) -> dict:
    out = r.to_json()
    st = r.ws_stats
    out.update({"protocol": "websocket", "statusCodeStats": {}, "non2xx": 0,
                **{f"{c}xx": 0 for c in range(1, 6)}})
    out["websocket"] = {"mode": r.spec.mode, "messagesReceived": r.requests,
                        "connect": connect_summary(st.connect_us),
                        "closeCodes": dict(sorted(st.close_codes.items())),
                        "handshakeStatus": dict(sorted(st.handshake_status.items()))}
    if r.spec.mode == "push":  # nothing was timed: no latency, rather than zeros
        out["latency"] = {k: (None if k != "totalCount" else 0) for k in out["latency"]}
    if r.spec.on_connect and r.spec.mode == "roundtrip":
        out["websocket"]["onConnectReplies"] = {"answered": st.greeted,
                                                "unanswered": st.unanswered}
    return out
