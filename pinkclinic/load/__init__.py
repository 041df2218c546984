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

from pinkclinic.load.options import parse_bench_args
from pinkclinic.load.result import LoadResult
from pinkclinic.load.runner import run_load, run_load_async
from pinkclinic.load.spec import LoadSpec, RequestTemplate

__all__ = ["LoadResult", "LoadSpec", "RequestTemplate", "parse_bench_args", "run_load",
           "run_load_async"]
