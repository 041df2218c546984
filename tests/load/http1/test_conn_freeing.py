"""A connection that ends is freed by reference counting, not left to the garbage collector.

With a new connection per request every connection left as a reference cycle (httptools'
parser holding the protocol's bound callbacks, the transport and the protocol holding each
other) cost a gen-0 collection's work; bench/results/loadgen.md measures the path.
"""

from __future__ import annotations

import gc

from pinkclinic.load import run_load
from pinkclinic.load.http1.conn import H1Conn
from pinkclinic.loadargs import parse_bench_args


def _conns() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, H1Conn))


def test_closed_connections_leave_no_cycles(serve):
    s = serve("count", "--close")
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        before = _conns()
        r = run_load(parse_bench_args(["-a", "300", "-c", "4", s.url]))
        assert r.requests == 300 and r.reconnects >= 290, (r.requests, r.reconnects)
        left = _conns() - before  # without the collector, only refcounting freed them
    finally:
        if was:
            gc.enable()
    assert left == 0, f"{left} of ~300 closed connections are waiting for the collector"
