"""The load generator behind ``pinkclinic bench`` and every command that drives a server.

::

    spec = LoadSpec("http://127.0.0.1:8000/items", connections=50, duration=10)
    result = run_load(spec, on_tick=print, stop=threading.Event())
    result.to_json()      # the `bench --json` object
    result.timeline       # one load.jsonl record per second

Sub-packages: ``core`` (the spec, statistics and their exact merge, the result and its
JSON, URLs, the event loop, the ``--requests`` and YAML files), ``http1`` (the connection,
the engine and its connections, pacing and clock, in-process and ``-w`` worker runners),
``lanes`` (the engine of one-exchange-at-a-time protocols), ``http2`` and ``ws`` (lanes of
those protocols), ``scenario`` (phased arrivals of virtual users). ``protocols`` builds a
spec for any protocol and runs it.

It knows nothing of the command line, the terminal or the server it loads: bench's
options become a spec in :mod:`pinkclinic.loadargs`, results are printed by
:mod:`pinkclinic.commands.bench`, servers are started and measured by
:mod:`pinkclinic.workflows` and :mod:`pinkclinic.session`.
"""

from __future__ import annotations

import importlib

# Imported on first use (PEP 562): a load worker process imports pinkclinic.load.http1.*
# and must not pay for the HTTP/2 and WebSocket clients it never uses.
_LAZY = {"LoadResult": "pinkclinic.load.core.result",
         "run_load": "pinkclinic.load.http1.runner", "run_load_async": "pinkclinic.load.http1.runner",
         "LoadSpec": "pinkclinic.load.core.spec", "RequestTemplate": "pinkclinic.load.core.spec",
         "build_spec": "pinkclinic.load.protocols", "run_spec": "pinkclinic.load.protocols"}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
