"""TCP_NODELAY is skipped only where Nagle's algorithm can never hold a request back:
``-p 1`` and one constant request that fits in one segment (read from real sockets)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from pinkclinic.load.core.loop import run_on_new_loop
from pinkclinic.load.http1.engine import Engine
from pinkclinic.loadargs import parse_bench_args


def nodelay_of_connections(url: str, *args: str) -> set[int]:
    async def main() -> set[int]:
        eng = Engine(parse_bench_args([*args, "-c", "3", url]), lambda b: None)
        try:
            await eng.connect_all()
            return {c.transport.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                    for c in eng.conns.slots}
        finally:
            eng.close()
            await asyncio.sleep(0)

    return run_on_new_loop(main())


@pytest.mark.parametrize(("args", "nodelay"), [
    ((), 0),
    (("-H", "Connection: close"), 0),
    (("-p", "2"), 1),  # a second request may go out with the first unacknowledged
    (("-m", "POST", "-b", "x" * 3000), 1),  # a request of several segments
])
def test_nodelay_only_where_nagle_could_delay(serve, args, nodelay):
    s = serve("count")
    assert nodelay_of_connections(s.url, *args) == {nodelay}
