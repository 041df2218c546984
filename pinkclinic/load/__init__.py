"""The load generator behind ``pinkclinic bench`` and every command that drives a server.

::

    spec = parse_bench_args(["-c", "50", "-d", "10", "/items"], base_url="http://127.0.0.1:8000")
    result = run_load(spec, on_tick=print, stop=threading.Event())
    result.to_json()      # the `bench --json` object
    result.timeline       # one load.jsonl record per second

Sub-packages: ``core`` (the spec, statistics and their exact merge, the result and its
JSON, URLs, the event loop, the ``--requests`` and YAML files), ``http1`` (the connection,
the engine and its connections, pacing and clock, in-process and ``-w`` worker runners),
``lanes`` (the engine of one-exchange-at-a-time protocols), ``http2`` and ``ws`` (lanes of
those protocols), ``scenario`` (phased arrivals of virtual users). ``protocols`` builds a
spec for any protocol and runs it.
"""

from __future__ import annotations

import importlib

# Imported on first use (PEP 562): a load worker process imports pinkclinic.load.* and
# must not pay for click and the option parser it never uses.
_LAZY = {"parse_bench_args": "pinkclinic.load.options", "LoadResult": "pinkclinic.load.core.result",
         "run_load": "pinkclinic.load.http1.runner", "run_load_async": "pinkclinic.load.http1.runner",
         "LoadSpec": "pinkclinic.load.core.spec", "RequestTemplate": "pinkclinic.load.core.spec"}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
