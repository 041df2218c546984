"""``pinkclinic bench ws://...``: the options that make a WebSocket spec, and the tables
(bench's, with round trips, Msg/Sec and the connect time). Its JSON is
:func:`pinkclinic.load.ws.result.ws_json`."""

from __future__ import annotations

from pathlib import Path

from pinkclinic.commands.bench.single import run_single
from pinkclinic.commands.bench.tables import footer, latency_table, percentile_table, rates_table
from pinkclinic.errors import UsageError
from pinkclinic.load.core.reqfile import parse_header
from pinkclinic.load.core.result import LoadResult
from pinkclinic.load.ws.result import connect_summary, ws_json
from pinkclinic.load.ws.run import ON_CONNECT_REPLY_S, WsSpec, run_ws
from pinkclinic.ui.fmt import fmt_ms


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


def print_ws(r: LoadResult, console, full_latency: bool = False) -> None:
    st = r.ws_stats
    if r.requests:
        if r.spec.mode == "roundtrip":
            console.print(latency_table(r, "Round trip"))
            if full_latency:
                console.print(percentile_table(r, "Round trip"))
        console.print(rates_table(r, "Msg/Sec"))
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


def bench_ws(url: str, opts: dict, wf: dict, *, as_json: bool, full_latency: bool,
             no_progress: bool) -> int:
    spec = ws_spec(url, opts, wf)
    return run_single(spec, run_ws, as_json=as_json, full_latency=full_latency,
                      no_progress=no_progress, to_json=ws_json,
                      printer=lambda r, console: print_ws(r, console, full_latency),
                      unit="messages")
