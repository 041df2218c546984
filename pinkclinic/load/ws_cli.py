"""``pinkclinic bench ws://...``: options, the JSON (bench's shape, messages as requests)
and the tables (bench's, with Msg/Sec and the connect time)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from pinkclinic.errors import UsageError
from pinkclinic.load.core.result import LoadResult
from pinkclinic.load.core.stats import ALL_PERCENTILES, counter_percentiles, ms
from pinkclinic.load.options import parse_header
from pinkclinic.load.render import _stats, _table, fmt_bytes, fmt_count, fmt_ms, footer
from pinkclinic.load.ws.run import ON_CONNECT_REPLY_S, WsSpec, run_ws


def read_message(text: str) -> str | bytes:
    """``TEXT`` is sent as a text frame; ``@FILE`` as text if it is UTF-8, else binary;
    ``@@TEXT`` sends ``@TEXT`` as it is."""
    if text.startswith("@@"):
        return text[1:]
    if not text.startswith("@"):
        return text
    try:
        data = Path(text[1:]).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read message file {text[1:]}: {e.strerror}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def ws_spec(url: str, opts: dict, wf: dict) -> WsSpec:
    for key, flag in (("body", "-b/--body"), ("input_file", "-i/--input"),
                      ("requests_file", "--requests")):
        if opts.get(key):
            raise UsageError(f"{flag} does not apply to ws:// (use --message)")
    if opts.get("method", "GET").upper() != "GET":
        raise UsageError("-m/--method does not apply to ws://")
    if wf.get("http2") or wf.get("streams"):
        raise UsageError("--http2/--streams do not apply to ws://")
    return WsSpec(url=url, connections=opts["connections"], duration=opts["duration"],
                  amount=opts["amount"], per_connection=wf["per_connection"],
                  timeout=opts["timeout"], messages=[read_message(m) for m in wf["messages"]],
                  on_connect=[read_message(m) for m in wf["on_connect"]],
                  headers=[parse_header(h) for h in opts.get("headers") or ()],
                  rate=opts["rate"], correction=not opts.get("no_correction"),
                  warmup=opts["warmup"], max_size=wf["max_size"],
                  pipelining=opts["pipelining"], workers=opts["workers"])


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


def print_ws(r: LoadResult, console: Console, full_latency: bool = False) -> None:
    st = r.ws_stats
    if r.requests:
        if r.spec.mode == "roundtrip":
            lat = _table("Stat", "2.5%", "50%", "97.5%", "99%", "Avg", "Stdev", "Max")
            L = r.latency
            lat.add_row("Round trip", *(fmt_ms(r.latency_ms(p)) for p in (2.5, 50, 97.5, 99)),
                        fmt_ms(L["mean"] / 1000), fmt_ms(L["stdev"] / 1000),
                        fmt_ms(L["max"] / 1000))
            console.print(lat)
            if full_latency:
                pt = _table("Percentile", "Round trip")
                for p in ALL_PERCENTILES:
                    pt.add_row(f"{p:g}%", fmt_ms(r.latency_ms(p)))
                console.print(pt)
        rb = _table("Stat", "1%", "2.5%", "50%", "97.5%", "Avg", "Stdev", "Min")
        for name, which, f in (("Msg/Sec", 1, fmt_count), ("Bytes/Sec", 2, fmt_bytes)):
            s = _stats(r.per_second(which))
            rb.add_row(name, *(f(v) for v in s["pcts"]), f(s["avg"]), f(s["sd"]), f(s["min"]))
        console.print(rb)
    lines = [ln.replace(" requests in ", " messages in ").replace(" req/s", " messages/s")
             for ln in footer(r)]
    c = connect_summary(st.connect_us)
    if c["count"]:
        lines.append(f"{c['count']} connections opened: connect p50 {fmt_ms(c['p50'])}, "
                     f"p99 {fmt_ms(c['p99'])}, max {fmt_ms(c['max'])}")
    if r.spec.mode == "push":
        lines.append("push mode (no --message): messages the server sent on its own were "
                     "counted; there is no round trip to time")
    if st.unanswered:
        one = st.unanswered == 1
        lines.append(f"{st.unanswered} connection{'' if one else 's'} got no answer to "
                     f"--on-connect within {ON_CONNECT_REPLY_S:g} s; {'its' if one else 'their'} "
                     "round trips started anyway (a late answer would be taken for a reply)")
    if st.close_codes:
        lines.append("close frames from the server: " +
                     ", ".join(f"{n} × {k}" for k, n in sorted(st.close_codes.items())))
    if st.handshake_status:
        lines.append("handshakes refused: " +
                     ", ".join(f"{n} × HTTP {k}" for k, n in sorted(st.handshake_status.items())))
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def ws_main(url: str, opts: dict, wf: dict, *, as_json: bool, full_latency: bool,
            no_progress: bool) -> int:
    from pinkclinic.load.single_cli import run_single

    spec = ws_spec(url, opts, wf)
    return run_single(spec, run_ws, as_json=as_json, full_latency=full_latency,
                      no_progress=no_progress, to_json=ws_json,
                      printer=lambda r, console: print_ws(r, console, full_latency),
                      unit="messages")
