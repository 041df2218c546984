"""``routes.json`` from the probe's ``requests-<PID>.jsonl`` streams (feature ``routes``),
for a run whose load is not pinkclinic's (``--on-port``).

The probe writes raw request paths (never a query string): here each becomes its route
(:func:`pinkclinic.analysis.routes.route_key`: ids collapsed, secrets masked), the
requests of every process are put in one ``routes.json`` of ``source`` ``"probe"`` (the
same document the load generator's trace gives, so the table and the culprits' routes
come out of one builder), and the raw streams are deleted. With no ``requests`` stream
(no server the probe knows loaded an app) no ``routes.json`` is written. See
docs/recording-format.md ("requests-PID.jsonl").
"""

from __future__ import annotations

import math
from pathlib import Path

from pinkclinic.analysis.routes import route_key
from pinkclinic.jsonio import read_jsonl, write_json
from pinkclinic.recording import Recording
from pinkclinic.session.collectors import Collector
from pinkclinic.session.routes_file import ROUTES_FILE, SCHEMA_VERSION


def request_paths(folder: Path) -> list[Path]:
    return sorted(Path(folder).glob("requests-*.jsonl"))


def probe_routes_doc(paths: list[Path]) -> dict | None:
    """The ``routes.json`` document of the probe's ``requests`` streams, or ``None`` when
    there is none (no app was wrapped)."""
    if not paths:
        return None
    keys: list[tuple[str, str]] = []
    index: dict[tuple[str, str], int] = {}
    rows: list[tuple[float, int, float, int]] = []  # (start epoch s, route, dur ms, status)
    servers, dropped = set(), 0
    for path in paths:
        last_dropped = 0  # cumulative in each process's stream: its last record's
        try:
            records = list(read_jsonl(path))
        except (OSError, ValueError):
            continue
        for r in records:
            if not isinstance(r, dict):
                continue
            if r.get("type") == "app":
                servers.add(str(r.get("server", "?")))
            if r.get("type") != "requests":
                continue
            local = []
            for method, raw in r.get("routes") or []:
                key = route_key(str(method), str(raw))
                if key not in index:
                    index[key] = len(keys)
                    keys.append(key)
                local.append(index[key])
            t0 = float(r.get("t0") or 0.0)
            for i, s, d, st in zip(r.get("route", []), r.get("start_us", []), r.get("dur_us", []),
                                   r.get("status", []), strict=False):
                if 0 <= i < len(local):
                    rows.append((t0 + s / 1e6, local[i], d / 1000, int(st)))
            last_dropped = int(r.get("dropped") or 0)
        dropped += last_dropped
    t0 = math.floor(min((s for s, *_ in rows), default=0.0) * 1000) / 1000  # no start below 0
    rows.sort()
    return {"schema_version": SCHEMA_VERSION, "source": "probe", "servers": sorted(servers),
            "t0": t0, "routes": [{"method": m, "path": p} for m, p in keys],
            "requests": {"route": [r for _, r, _, _ in rows],
                         "start_ms": [round((s - t0) * 1000, 2) for s, *_ in rows],
                         "dur_ms": [d for _, _, d, _ in rows],
                         "status": [st for *_, st in rows]},
            "dropped": dropped}


def write_probe_routes(rec: Recording) -> bool:
    """Turn the probe's ``requests`` streams into ``routes.json`` and delete them; whether
    a ``routes.json`` was written."""
    paths = request_paths(rec.path)
    doc = probe_routes_doc(paths)
    if doc is not None:
        write_json(rec.file(ROUTES_FILE), doc, indent=None)
        rec.register("routes", ROUTES_FILE, format="json", schema_version=SCHEMA_VERSION)
    for p in paths:  # raw paths: only their templates are kept
        p.unlink(missing_ok=True)
    return doc is not None


class ProbeRoutes(Collector):
    """The probe's per-request records made into ``routes.json`` once the target stopped
    (an attached probe has detached by then: its last records are written)."""

    name = "probe-routes"
    start_when = "launched"
    stop_when = "after-stop"

    def start(self, rec: Recording, target) -> None:
        pass

    def stop(self, rec: Recording) -> None:
        write_probe_routes(rec)
