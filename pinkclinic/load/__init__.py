"""The load generator behind ``pinkclinic bench`` and every command that drives a server.

::

    spec = parse_bench_args(["-c", "50", "-d", "10", "/items"], base_url="http://127.0.0.1:8000")
    result = run_load(spec, on_tick=print, stop=threading.Event())
    result.to_json()      # the `bench --json` object
    result.timeline       # one load.jsonl record per second

Modules: ``spec`` (what to send), ``options`` (the CLI options, shared with
``parse_bench_args``), ``http1`` (one connection; ``http1_closing`` and
``http1_head`` for servers that close and for HEAD), ``engine`` (the run and
its ticks; ``engine_conns``, ``engine_pacing`` and ``engine_sweep`` for
connections, rate pacing and timeouts), ``stats`` (bins and their exact merge),
``result`` (LoadResult and its JSON), ``runner`` (in-process runs), ``workers``
(worker processes), ``render`` (terminal tables).
"""

from __future__ import annotations

import importlib

# Imported on first use (PEP 562): a load worker process imports pinkclinic.load.* and
# must not pay for click and the option parser it never uses.
_LAZY = {"parse_bench_args": "pinkclinic.load.options", "LoadResult": "pinkclinic.load.result",
         "run_load": "pinkclinic.load.runner", "run_load_async": "pinkclinic.load.runner",
         "LoadSpec": "pinkclinic.load.spec", "RequestTemplate": "pinkclinic.load.spec"}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
