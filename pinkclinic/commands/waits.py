"""``pinkclinic waits``: record a server under load with frequent asyncio task snapshots,
then say where requests wait, on what, and how many at once.

With ``--pid`` the probe is injected into the live process (``InjectedProbe``, as for
doctor) and removed at the end; where it cannot be, one line says why and the report
comes from the out-of-process signals, with ``waits`` in ``signals_missing``.

Writes ``DIR/NAME.pinkclinic-waits/`` (the recording, ``diagnosis.json`` in doctor's
schema and ``waits.json``) and ``DIR/NAME.pinkclinic-waits.html``; prints one line per
top site, or ``waits.json`` itself with ``--json``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.diagnose import diagnose
from pinkclinic.analysis.sources import capture
from pinkclinic.analysis.waits import SCHEMA_VERSION, threads_only, wait_profile, waits_json
from pinkclinic.commands.common import run_recording
from pinkclinic.commands.summary import print_diagnosis
from pinkclinic.jsonio import dumps, write_json
from pinkclinic.recording import Recording
from pinkclinic.render.waits import write_waits_report
from pinkclinic.session.options import SessionOptions
from pinkclinic.session.ui import Phases

WAITS_FILE = "waits.json"
PROBE_FEATURES = ["loop", "tasks", "threads", "listen"]
ATTACH_FEATURES = ["loop", "tasks", "threads"]  # --pid: injected; attach finds ports itself
# snapshot period; the probe slows it down to keep to ~1.5% of a core. At 50 ms the
# snapshots cost the server of bench/waits.py about 1.3% of a core beyond the probe
# without them (bench/results/waits.md), and a 10 s load gives 200 of them, plenty for
# shares within a few points
WAITS_MS = 50
PROBE_OPTIONS = {"waits_ms": WAITS_MS, "block_ms": 30}
NO_LOOP = ("no asyncio task was seen: the target runs no event loop the probe could "
           "watch (a sync WSGI app, an unknown loop, or a process the probe was not "
           "injected into)")
TOP_LINES = 8


def waits_collectors(opts: SessionOptions) -> list:
    from pinkclinic.session.collectors import PsutilCollector

    collectors = [PsutilCollector(opts.sample_interval_ms / 1000)]
    if opts.pid is not None:  # the probe, injected into the live process (as doctor's)
        from pinkclinic.session.probe_attach import InjectedProbe

        collectors.append(InjectedProbe(ATTACH_FEATURES, PROBE_OPTIONS))
    return collectors


def analyse(rec: Recording) -> tuple[dict, dict[str, Any]]:
    """diagnosis.json and waits.json, both written into the recording."""
    data = RecordingData(rec)
    diagnosis = diagnose(data)
    profile = wait_profile(data)
    out = waits_json(profile) if profile is not None else {
        "schema_version": SCHEMA_VERSION, "sites": [], "missing": NO_LOOP}
    write_json(rec.file(WAITS_FILE), out)
    return diagnosis, out


def save_sources(rec: Recording, result, ui: Phases) -> None:
    ui.phase("saving source lines")
    data = RecordingData(rec)
    capture(rec, (st for r in data.probe.get("waits", []) for st, _n in r.get("stacks", [])))


def site_line(site: dict[str, Any]) -> str:
    what = site["kind"] + (f" {site['resource']}" if site["resource"] else "")
    where = f"{site['function']} ({Path(site['file']).name}:{site['line']})"
    size = site.get("detail", {}).get("size")
    pool = f", pool of {size}" if size else ""
    return (f"{100 * site['share']:5.1f}%  {what:<34} {where}  "
            f"{site['mean_waiters']:.1f} waiting (max {site['max_waiters']:.0f}){pool}")


def print_waits(diagnosis: dict, waits: dict, report: Path | None) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    shown = dict(diagnosis)  # waits runs no py-spy by design: its stacks are not missed
    shown["signals_missing"] = [m for m in diagnosis.get("signals_missing", []) if m != "stacks"]
    print_diagnosis(shown, None, console=console)
    if waits.get("missing"):
        console.print(f"  [yellow]{escape(waits['missing'])}: no wait sites[/]")
    else:
        only = threads_only(waits)
        if only:
            console.print(f"  [yellow]{escape(only)}[/]")
        split = ", ".join(f"{'on-CPU' if k == 'cpu' else k} {100 * v:.0f}%" for k, v in
                          sorted(waits["split"].items(), key=lambda kv: -kv[1]) if v >= 0.01)
        console.print(f"  request time: {escape(split)}")
        console.print("  where requests wait:")
        for site in waits["sites"][:TOP_LINES]:
            console.print("    " + escape(site_line(site)))
    if report is not None:
        console.print(f"  report: [bold]{escape(str(report))}[/]")


def finisher(as_json: bool):
    def finish(rec: Recording, ui: Phases):
        ui.phase("analysing")
        diagnosis, waits = analyse(rec)
        ui.phase("writing the report")
        report = write_waits_report(rec, diagnosis, waits)
        if as_json:
            return report, lambda: sys.stdout.write(dumps(waits, indent=1) + "\n")
        return report, lambda: print_waits(diagnosis, waits, report)
    return finish


def run_waits(opts: SessionOptions, as_json: bool = False) -> int:
    return run_recording(opts, waits_collectors(opts), finisher(as_json),
                         probe_features=PROBE_FEATURES if opts.pid is None else None,
                         probe_options=PROBE_OPTIONS,
                         after_record=save_sources)


def rerender(rec: Recording, fmt: str, output: str | None, lines: bool | None = None):
    """``pinkclinic report`` for a waits recording."""
    from pinkclinic.commands.report import emit_json

    diagnosis, waits = analyse(rec)
    if fmt == "html":
        report = write_waits_report(rec, diagnosis, waits)
        if output:
            import shutil

            shutil.copyfile(report, output)
            return output
        print_waits(diagnosis, waits, report)
        return report
    if fmt == "json":
        return emit_json(waits, output)
    print_waits(diagnosis, waits, None)
    return None
