"""``pinkclinic bench --scenario FILE [URL | -- COMMAND...]``: run, then one table per phase."""

from __future__ import annotations

import sys

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pinkclinic import jsonio
from pinkclinic.errors import UsageError
from pinkclinic.load.bench_cli import given
from pinkclinic.load.render import fmt_bytes, fmt_count, fmt_ms
from pinkclinic.load.scenario.file import read_scenario
from pinkclinic.load.scenario.run import ScenarioRun
from pinkclinic.load.suite_cli import reject_single_request_options, server_for

SCHEMA_VERSION = 1
NOT_FOR_SCENARIOS = ("connections", "pipelining", "duration", "amount", "warmup", "workers",
                     "rate", "no_correction", "headers")


def scenario_main(path: str, url: str | None, command: list[str], ctx: click.Context, opts: dict,
                  wf: dict, *, as_json: bool, full_latency: bool, no_progress: bool) -> int:
    from pinkclinic.interrupt import StopSignal
    from pinkclinic.load.core.loop import run_on_new_loop

    sc = read_scenario(path)
    reject_single_request_options(ctx, opts, "--scenario")
    for name in NOT_FOR_SCENARIOS:
        if given(ctx, name) and opts.get(name) not in (None, (), False):
            raise UsageError(f"--{name.replace('_', '-')} does not apply to --scenario: "
                             "the phases set the load")
    if wf.get("http2") or wf.get("streams"):
        raise UsageError("--http2 does not apply to --scenario yet")
    if given(ctx, "timeout"):
        sc.timeout = opts["timeout"]
    show = not no_progress and sys.stderr.isatty()

    def on_phase(i, ph) -> None:
        if show:
            ramp = f" -> {ph.ramp_to:g}" if ph.ramp_to is not None else ""
            click.echo(f"phase {i + 1}/{len(sc.phases)} {ph.name}: {ph.duration:g}s, "
                       f"{ph.rate:g}{ramp} users/s", err=True)

    with StopSignal() as sig:
        srv = server_for(path, url, sc.target, command, wf, sig.event, ("http",))
        with srv:
            base = srv.start()
            if base is None:
                return 130
            if not base.startswith("http://"):
                raise UsageError(f"{base}: scenarios speak plain HTTP/1.1 (http://)")

            def load(stop):
                run = ScenarioRun(sc, base, stop=stop, on_phase=on_phase)
                run_on_new_loop(run.run())
                return run

            w = srv.measure(load)
            srv.close()
    run = w.value
    if w.died:  # the load stopped because the server died: not the user's interrupt
        run.interrupted = sig.interrupted
    data = to_json(run, srv, w)
    if as_json:
        click.echo(jsonio.dumps(data, indent=2))
    else:
        print_scenario(run, data, Console(file=sys.stdout, highlight=False, soft_wrap=False,
                                          width=max(120, Console().width)))
    if w.died:
        click.echo(f"pinkclinic: error: the server died during the scenario: {w.died}", err=True)
        return 1
    if run.total.requests == 0 and run.total.errors:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(run.total.errors.items()))
        click.echo(f"pinkclinic: error: no responses from {base} ({kinds})", err=True)
        return 1
    return 130 if run.interrupted or sig.interrupted else 0


def to_json(run: ScenarioRun, srv, w) -> dict:
    return {"schema_version": SCHEMA_VERSION, "kind": "scenario", "scenario": run.sc.path,
            "url": srv.url, "command": srv.command, "interrupted": run.interrupted,
            "phases": [p.to_json() for p in run.phases], "total": run.total.to_json(),
            "server": {**w.server_json(),
                       "ending": srv.ending.as_dict() if srv.ending is not None else None}}


def print_scenario(run: ScenarioRun, data: dict, console: Console) -> None:
    where = " ".join(data["command"] or []) or data["url"]
    console.print(f"Scenario {run.sc.path} @ {where}", markup=False, highlight=False)
    t = Table(box=box.SQUARE, header_style="bold")
    for i, col in enumerate(("Phase", "Duration", "Arrivals/s", "Users", "Completed", "Failed",
                             "Req/s", "p50", "p97.5", "p99", "Errors")):
        t.add_column(col, justify="left" if i == 0 else "right", no_wrap=i > 0)
    for ph in [*data["phases"], {**data["total"], "name": "total"}]:
        rate = ph.get("arrivalRate")
        if not ph["start"]:  # never started (stopped before it, or the server died)
            t.add_row(Text(ph["name"]), *(["–"] * 10))
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
