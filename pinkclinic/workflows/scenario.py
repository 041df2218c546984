"""A scenario against a server: the phases run (:mod:`pinkclinic.load.scenario`) while the
server is measured with psutil, and the ``--json`` object of it all."""

from __future__ import annotations

from collections.abc import Callable

from pinkclinic import redact
from pinkclinic.load.core.loop import run_on_new_loop
from pinkclinic.load.scenario.file import Phase, ScenarioFile
from pinkclinic.load.scenario.run import ScenarioRun
from pinkclinic.workflows.server import ServerUnderTest, Window

SCHEMA_VERSION = 1


def run_scenario(sc: ScenarioFile, srv: ServerUnderTest,
                 on_phase: Callable[[int, Phase], None] | None = None) -> Window:
    """Run ``sc`` against ``srv`` (started); the window's ``value`` is the ScenarioRun."""
    def load(stop) -> ScenarioRun:
        run = ScenarioRun(sc, srv.url, stop=stop, on_phase=on_phase)
        run_on_new_loop(run.run())
        return run

    return srv.measure(load)


def scenario_json(run: ScenarioRun, srv: ServerUnderTest, w: Window) -> dict:
    return {"schema_version": SCHEMA_VERSION, "kind": "scenario", "scenario": run.sc.path,
            "url": redact.url(srv.url), "command": redact.argv(srv.command) if srv.command else srv.command,
            "interrupted": run.interrupted,
            "phases": [p.to_json() for p in run.phases], "total": run.total.to_json(),
            "server": {**w.server_json(),
                       "ending": srv.ending.as_dict() if srv.ending is not None else None}}
