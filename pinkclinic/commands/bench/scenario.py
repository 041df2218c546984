"""``pinkclinic bench --scenario FILE [URL | -- COMMAND...]``: the phases run, then one
table row per phase and the total."""

from __future__ import annotations

import sys

from pinkclinic import jsonio
from pinkclinic.commands.bench.server import server_for
from pinkclinic.commands.bench.suite import reject_single_request_options
from pinkclinic.errors import UsageError
from pinkclinic.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from pinkclinic.interrupt import StopSignal
from pinkclinic.load.scenario.file import read_scenario
from pinkclinic.load.scenario.run import ScenarioRun
from pinkclinic.ui.fmt import DASH, fmt_bytes, fmt_count, fmt_ms
from pinkclinic.ui.terminal import console_width, echo, stdout_console, table
from pinkclinic.workflows.scenario import run_scenario, scenario_json

NOT_FOR_SCENARIOS = ("connections", "pipelining", "duration", "amount", "warmup", "workers",
                     "rate", "no_correction", "headers")


def bench_scenario(path: str, url: str | None, command: list[str], given: set[str], opts: dict,
                   wf: dict, *, as_json: bool, full_latency: bool, no_progress: bool) -> int:
    sc = read_scenario(path)
    reject_single_request_options(given, opts, "--scenario")
    for name in NOT_FOR_SCENARIOS:
        if name in given and opts.get(name) not in (None, (), False):
            raise UsageError(f"--{name.replace('_', '-')} does not apply to --scenario: "
                             "the phases set the load")
    if wf.get("http2") or wf.get("streams"):
        raise UsageError("--http2 does not apply to --scenario yet")
    if "timeout" in given:
        sc.timeout = opts["timeout"]
    show = not no_progress and sys.stderr.isatty()

    def on_phase(i, ph) -> None:
        if show:
            ramp = f" -> {ph.ramp_to:g}" if ph.ramp_to is not None else ""
            echo(f"phase {i + 1}/{len(sc.phases)} {ph.name}: {ph.duration:g}s, "
                 f"{ph.rate:g}{ramp} users/s", err=True)

    with StopSignal() as sig:
        srv = server_for(path, url, sc.target, command, wf, sig.event, ("http",))
        with srv:
            base = srv.start()
            if base is None:
                return EXIT_INTERRUPTED
            if not base.startswith("http://"):
                raise UsageError(f"{base}: scenarios speak plain HTTP/1.1 (http://)")
            w = run_scenario(sc, srv, on_phase)
            srv.close()
    run = w.value
    if w.died:  # the load stopped because the server died: not the user's interrupt
        run.interrupted = sig.interrupted
    data = scenario_json(run, srv, w)
    if as_json:
        echo(jsonio.dumps(data, indent=2))
    else:
        print_scenario(run, data, stdout_console(console_width()))
    if w.died:
        echo(f"pinkclinic: error: the server died during the scenario: {w.died}", err=True)
        return EXIT_FAILED
    if run.total.requests == 0 and run.total.errors:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(run.total.errors.items()))
        echo(f"pinkclinic: error: no responses from {base} ({kinds})", err=True)
        return EXIT_FAILED
    return EXIT_INTERRUPTED if run.interrupted or sig.interrupted else EXIT_OK


def print_scenario(run: ScenarioRun, data: dict, console) -> None:
    from rich.text import Text

    where = " ".join(data["command"] or []) or data["url"]  # redacted in scenario_json
    console.print(f"Scenario {run.sc.path} @ {where}", markup=False, highlight=False)
    t = table("Phase", "Duration", "Arrivals/s", "Users", "Completed", "Failed", "Req/s", "p50",
              "p97.5", "p99", "Errors", wrap_first=True)
    for ph in [*data["phases"], {**data["total"], "name": "total"}]:
        rate = ph.get("arrivalRate")
        if not ph["start"]:  # never started (stopped before it, or the server died)
            t.add_row(Text(ph["name"]), *([DASH] * 10))
            continue
        if rate is None:
            arrivals = ""
        else:
            target = f"{rate['from']:g}" + (f"→{rate['to']:g}" if rate["to"] != rate["from"] else "")
            arrivals = f"{target} ({rate['achieved']:.1f})"
        lat, vu = ph["latency"], ph["vusers"]
        t.add_row(Text(ph["name"]), f"{ph['duration']:.1f}s", arrivals, fmt_count(vu["created"]),
                  fmt_count(vu["completed"]), fmt_count(vu["failed"]),
                  fmt_count(ph["requests"]["average"]), fmt_ms(lat["p50"]), fmt_ms(lat["p97_5"]),
                  fmt_ms(lat["p99"]), fmt_count(ph["errors"] + ph["non2xx"]))
    console.print(t)
    tot, srv = data["total"], data["server"]
    lines = [f"{fmt_count(tot['requests']['total'])} requests in {tot['duration']:.2f}s, "
             f"{fmt_bytes(tot['throughput']['total'])} read; Arrivals/s: target (achieved)"]
    if srv["cpu_percent"] is not None:
        lines.append(f"server: CPU {srv['cpu_percent']:.0f}% (100% = one core), "
                     f"peak RSS {fmt_bytes(srv['peak_rss'] or 0)}")
    if tot["errorsByKind"] or tot["non2xx"]:
        parts = [f"{k} {n}" for k, n in tot["errorsByKind"].items()]
        codes = [f"{n} × {s}" for s, c in tot["statusCodeStats"].items()
                 if not s.startswith("2") for n in [c["count"]]]
        lines.append("errors: " + ", ".join(parts + codes))
    skipped = sum(p["vusers"]["skipped"] for p in data["phases"])
    if skipped:
        lines.append(f"{skipped} arrivals skipped: maxVusers users were already running")
    if srv["died"]:
        lines.append(f"the server died during the scenario: {srv['died']}")
    elif run.interrupted:
        lines.append("interrupted: these are the results so far")
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
