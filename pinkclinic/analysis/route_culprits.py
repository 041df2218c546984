"""Which routes each culprit slows: its stack samples shared among the requests in flight.

An approximation, said as such in the docs: the server's stacks do not say which
request they serve, so each py-spy sample holding a culprit's frame (anywhere on its
stack, or as its culprit frame) is shared among the routes in flight at the sample's
time, in proportion to each route's requests in flight then
(:func:`pinkclinic.analysis.routes.in_flight`). py-spy's samples carry no time and are
placed in time from their count (:mod:`pinkclinic.analysis.pyspy_window`, good to a few
tenths of a second), so with routes that alternate faster than that the shares tend to
each route's share of the time in flight, which is still highest for the route that
waits longest. ``diagnosis.json`` gets the table (``routes``) and each culprit its
``routes``.
"""

from __future__ import annotations

from typing import Any

from pinkclinic.analysis.culprits import culprit_frame
from pinkclinic.analysis.routes import in_flight, route_table
from pinkclinic.jsonio import read_json

MIN_SAMPLES = 5  # a culprit's samples with requests in flight below which it names no route
MIN_ROUTE_SHARE = 0.05  # routes below this share of a culprit's samples are not named
TOP_ROUTES = 3


def read_routes(rec) -> dict | None:
    path = rec.stream_file("routes")
    try:
        return read_json(path) if path is not None else None
    except (OSError, ValueError):
        return None


KNOWN_SERVERS = "uvicorn, gunicorn, hypercorn, werkzeug (flask run) or wsgiref"  # the probe's (feature routes)


def unavailable_reason(options: dict, probe_routes: bool = False) -> str:
    """Why there is no per-route table; ``probe_routes``: the probe's ``routes`` feature
    ran (it times the requests of an app loaded by a server it knows)."""
    if options.get("on_port") and probe_routes:
        return ("The per-route table is not available with --on-port: the probe saw no app "
                f"loaded by a server it knows ({KNOWN_SERVERS}), so no request was timed")
    if options.get("on_port"):
        return ("The per-route table is not available with --on-port: its load is not "
                "pinkclinic's, and the probe did not time requests (not injected, or a "
                "recording made before it could), so no request was traced")
    if options.get("no_load") or options.get("load") is None:
        return ("The per-route table is not available without pinkclinic's load "
                "(--no-load): no request was traced")
    return ("The per-route table is not available: the load traced no request "
            "(HTTP/2 and WebSocket loads do not, nor recordings made before routes.json)")


def culprit_routes(threads, window: tuple[float, float], doc: dict,
                   keys: set[tuple[str, str]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(function, file) of each culprit -> its routes, most weight first:
    ``{"method", "path", "share"}``."""
    flight = in_flight(doc, window)
    routes = doc.get("routes") or []
    weight: dict[tuple, dict[int, float]] = {k: {} for k in keys}
    seen: dict[tuple, int] = dict.fromkeys(keys, 0)
    hits: dict[int, set] = {}  # id of a shared stack tuple -> the culprit keys on it
    for t in threads or []:
        for when, stack in zip(t.times(), t.stacks, strict=False):
            if not window[0] <= when <= window[1]:
                continue
            on = hits.get(id(stack))
            if on is None:
                frames = {(str(f[0]), str(f[1])) for f in stack}
                top = culprit_frame(stack)
                if top is not None:
                    frames.add((str(top[0]), str(top[1])))
                on = hits[id(stack)] = frames & keys
            if not on:
                continue
            now = flight.at(when)
            total = sum(now.values())
            if not total:
                continue
            for key in on:
                seen[key] += 1
                acc = weight[key]
                for r, n in now.items():
                    acc[r] = acc.get(r, 0.0) + n / total
    out = {}
    for key, acc in weight.items():
        if seen[key] < MIN_SAMPLES:
            continue
        ranked = sorted(acc.items(), key=lambda kv: -kv[1])
        named = [{"method": str(routes[r].get("method", "")), "path": str(routes[r].get("path", "")),
                  "share": round(w / seen[key], 4)}
                 for r, w in ranked[:TOP_ROUTES] if 0 <= r < len(routes) and w / seen[key] >= MIN_ROUTE_SHARE]
        if named:
            out[key] = named
    return out


def add_routes(diagnosis: dict, data) -> None:
    """Add ``routes`` (the per-route table, or why there is none) to ``diagnosis`` and
    each culprit's ``routes``; a missing table is the missing signal ``routes``."""
    doc = read_routes(data.rec)
    w = data.window
    if doc is None:
        started = any(r.get("feature") == "routes" and r.get("state") == "started"
                      for r in data.probe.get("feature", []))
        diagnosis["routes"] = {"table": None, "why": unavailable_reason(
            data.rec.manifest.get("options", {}), started)}
        diagnosis["signals_missing"] = sorted(set(diagnosis.get("signals_missing", [])) | {"routes"})
        return
    window = None if w is None else (w.start, w.end)
    full = data.load_window  # untrimmed: the table counts every request of the load
    table = route_table(doc, None if full is None else (full.start, full.end))
    diagnosis["routes"] = {"table": table, "source": doc.get("source", "load"),
                           "dropped": int(doc.get("dropped") or 0)}
    if doc.get("source") == "probe":  # timed in the server by the probe (feature routes)
        diagnosis["routes"]["servers"] = [str(s) for s in doc.get("servers") or []]
    lists = [i.get("culprits", []) for i in diagnosis.get("issues", [])]
    if diagnosis.get("saturation"):
        lists.append(diagnosis["saturation"].get("culprits", []))
    keys = {(c["function"], c["file"]) for cs in lists for c in cs}
    if not keys or window is None or not data.pyspy_threads:
        return
    found = culprit_routes(data.pyspy_threads, window, doc, keys)
    for cs in lists:
        for c in cs:
            if (c["function"], c["file"]) in found:
                c["routes"] = found[(c["function"], c["file"])]
