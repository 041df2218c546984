"""Run a suite: each endpoint in turn against one server, measured with psutil.

Every endpoint gets its own load and its own window of the server's CPU % and peak
RSS (the whole process tree). If the server dies, the endpoint that was running is
reported with what it got and how the server ended; the endpoints after it are
marked ``not-run``. Statuses: ``ok``, ``no-responses``, ``server-died``,
``interrupted``, ``not-run``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pinkclinic import redact
from pinkclinic.errors import UsageError
from pinkclinic.load.core.result import LoadResult
from pinkclinic.load.core.urls import join_base
from pinkclinic.load.core.yamlfile import FileError
from pinkclinic.load.protocols import build_spec, run_spec
from pinkclinic.workflows.server import ServerUnderTest
from pinkclinic.workflows.suite_file import Endpoint, Suite

SCHEMA_VERSION = 1
CHECK_URL = "http://127.0.0.1:1"


@dataclass
class EndpointRun:
    endpoint: Endpoint
    status: str = "not-run"
    detail: str = ""
    result: LoadResult | None = None
    cpu_percent: float | None = None
    peak_rss: int | None = None

    def to_json(self) -> dict:
        e, spec = self.endpoint, self.result.spec if self.result is not None else None
        return {"name": e.name, "method": e.method, "path": e.path, "status": self.status,
                "detail": self.detail,
                "protocol": getattr(spec, "protocol", "http/1.1") if spec else None,
                "streams": getattr(spec, "streams", None),
                "cpu_percent": None if self.cpu_percent is None else round(self.cpu_percent, 1),
                "peak_rss": self.peak_rss,
                "result": None if self.result is None else self.result.to_json()}


@dataclass
class SuiteRun:
    suite: Suite
    url: str | None
    command: list[str] | None
    runs: list[EndpointRun] = field(default_factory=list)
    ending: dict | None = None
    interrupted: bool = False

    @property
    def failed(self) -> bool:
        return any(r.status in ("no-responses", "no-2xx", "server-died", "not-run") for r in self.runs)

    def to_json(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "kind": "suite", "suite": self.suite.path,
                "url": redact.url(self.url) if self.url else self.url,
                "command": redact.argv(self.command) if self.command else self.command, "server": {"ending": self.ending},
                "interrupted": self.interrupted,
                "endpoints": [r.to_json() for r in self.runs]}


def endpoint_spec(suite: Suite, ep: Endpoint, base: str, overrides: dict, headers: list):
    """The endpoint's spec: its path under the server URL's path, its load over the
    defaults, the command line's over both (``-d`` there drops an endpoint's ``amount``,
    ``-a`` its ``duration``, so that "-d 1" makes every endpoint 1 s long)."""
    load = {**suite.defaults, **ep.load}
    for given, drop in (("duration", "amount"), ("amount", "duration")):
        if given in overrides and drop not in overrides:
            load.pop(drop, None)
    load.update(overrides)
    url = join_base(base, ep.path)
    try:
        if url.startswith("https://") and not load.get("http2"):
            raise UsageError(f"{url}: https:// is spoken over HTTP/2 only: add `http2: true` "
                             "to the endpoint (or give --http2)")
        return build_spec(url, method=ep.method, headers=ep.headers + list(headers),
                          body=ep.body, **load)
    except UsageError as e:
        i = suite.endpoints.index(ep)
        raise FileError(suite.path, ep.line, f"endpoints[{i}] ({ep.name})", e.message) from None


def check_suite(suite: Suite, overrides: dict, headers: list) -> None:
    """Build every endpoint's spec once before anything starts, so a bad option fails fast."""
    for ep in suite.endpoints:
        endpoint_spec(suite, ep, suite.url or CHECK_URL, overrides, headers)


def run_suite(suite: Suite, server: ServerUnderTest, *, overrides: dict | None = None,
              headers: list | None = None,
              on_start: Callable[[int, Endpoint, object], None] | None = None,
              on_tick: Callable[[dict], None] | None = None) -> SuiteRun:
    """Run every endpoint against ``server`` (already started)."""
    overrides, headers = overrides or {}, headers or []
    run = SuiteRun(suite, server.url, server.command)
    run.runs = [EndpointRun(ep) for ep in suite.endpoints]
    for i, er in enumerate(run.runs):
        if server.user_stop.is_set():
            run.interrupted = True
            er.detail = "interrupted before it started"
            continue
        if not server.alive():
            er.detail = "the server had exited"
            continue
        spec = endpoint_spec(suite, er.endpoint, server.url, overrides, headers)
        if on_start is not None:
            on_start(i, er.endpoint, spec)
        w = server.measure(lambda stop, spec=spec: run_spec(spec, on_tick=on_tick, stop=stop))
        er.result, er.cpu_percent, er.peak_rss = w.value, w.cpu_percent, w.peak_rss
        if w.died:
            er.status, er.detail = "server-died", f"the server died during this endpoint: {w.died}"
        elif server.user_stop.is_set():
            er.status, er.detail = "interrupted", "the results so far"
            run.interrupted = True
        elif er.result.requests == 0:
            kinds = ", ".join(f"{n} {k}" for k, n in sorted(er.result.errors.items()))
            er.status, er.detail = "no-responses", f"no responses ({kinds or 'no answer'})"
        elif er.result.non2xx == er.result.requests:  # a wrong path or method, most likely
            codes = ", ".join(f"{n} {c}" for c, n in sorted(er.result.status.items()))
            er.status, er.detail = "no-2xx", f"no 2xx answer ({codes}): check its path and method"
        else:
            er.status = "ok"
    return run
