"""One entry point for every protocol: build a spec from plain options, run it.

``run_spec`` sends an HTTP/2 spec to :mod:`pinkclinic.load.http2.run`, a WebSocket spec
to :mod:`pinkclinic.load.ws.run` and anything else to :func:`pinkclinic.load.run_load`;
all three return the same :class:`~pinkclinic.load.core.result.LoadResult`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from pinkclinic.errors import UsageError
from pinkclinic.load.core.result import LoadResult
from pinkclinic.load.core.spec import LoadSpec
from pinkclinic.load.http1.runner import run_load

# load options a suite endpoint (or the command line, over a suite) may set
LOAD_KEYS = ("connections", "pipelining", "duration", "amount", "timeout", "warmup", "workers",
             "rate", "correction", "http2", "streams")


def build_spec(url: str, *, method: str = "GET", headers=(), body: bytes | None = None,
               requests=None, http2: bool = False, streams: int | None = None,
               **load) -> LoadSpec:
    """A LoadSpec (an H2Spec with ``http2``) from LOAD_KEYS-style keyword options."""
    unknown = set(load) - set(LOAD_KEYS)
    if unknown:
        raise UsageError(f"unknown load option(s): {', '.join(sorted(unknown))}")
    kw = {k: v for k, v in load.items() if v is not None}
    kw.update(url=url, method=method.upper(), headers=list(headers), body=body,
              requests=list(requests or []))
    if http2 or url.startswith("https://"):
        from pinkclinic.load.http2.run import H2Spec  # h2 is imported only for HTTP/2

        return H2Spec(**kw, streams=streams or 1)
    if streams is not None:
        raise UsageError("--streams applies only with --http2")
    return LoadSpec(**kw)


def run_spec(spec, on_tick: Callable[[dict], None] | None = None,
             stop: threading.Event | None = None) -> LoadResult:
    """Run ``spec`` with the engine of its protocol (whose client library, h2 or websockets,
    is imported only then)."""
    kind = getattr(spec, "protocol", "http/1.1")
    if kind == "h2":
        from pinkclinic.load.http2.run import run_h2

        return run_h2(spec, on_tick=on_tick, stop=stop)
    if kind == "ws":
        from pinkclinic.load.ws.run import run_ws

        return run_ws(spec, on_tick=on_tick, stop=stop)
    return run_load(spec, on_tick=on_tick, stop=stop)
