"""WebSocket load (``pinkclinic bench ws://...``) with the ``websockets`` library.

Two modes:

* **round trip** (``--message`` given): each connection sends a message (the list
  is cycled) and awaits the next message from the server: one round trip, timed
  into the same HDR histogram as HTTP latencies;
* **push** (no ``--message``): each connection only counts what the server sends
  on its own (after the ``--on-connect`` messages, e.g. a subscription). A server
  that pushes less often than ``-t`` is not timing out: in a run bounded by ``-d``
  silence is no error (with ``-a`` or ``--per-connection``, ``-t`` still bounds the
  wait for each message, so that the run ends).

In round-trip mode the server's answers to the ``--on-connect`` messages (an echo, an
"ack") are read before the first timed round trip: one reply per message, waited for
up to ``ON_CONNECT_REPLY_S``, then whatever else arrives within ``SETTLE_S``. Otherwise
every send would be paired with the previous reply, already buffered.

``requests.total`` counts messages. Errors: ``refused``/``connect``, ``handshake``
(the server refused the upgrade: a non-101 status), ``closed`` (the server sent a
close frame; its codes are kept), ``oversized`` (a message over ``max_size``),
``reset`` (the connection ended without a close frame), ``timeout``.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from time import perf_counter_ns
from urllib.parse import urlsplit

from pinkclinic import __version__
from pinkclinic.errors import UsageError
from pinkclinic.load.core.result import LoadResult
from pinkclinic.load.lanes.engine import LaneError
from pinkclinic.load.lanes.runner import run_lanes

ON_CONNECT_REPLY_S = 1.0  # longest wait for the answer to one --on-connect message
SETTLE_S = 0.05  # then: messages arriving this soon are still part of the greeting


@dataclass
class WsSpec:
    url: str
    connections: int = 10
    duration: float = 10.0
    amount: int | None = None  # messages in total
    per_connection: int | None = None  # messages per connection
    timeout: float = 10.0
    messages: list[str | bytes] = field(default_factory=list)
    on_connect: list[str | bytes] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    rate: float | None = None
    correction: bool = True
    warmup: float = 0.0
    max_size: int = 1 << 20
    pipelining: int = 1
    workers: int = 0
    protocol = "ws"

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise UsageError(f"invalid URL {self.url!r}: expected ws://HOST[:PORT]/PATH")
        if self.connections < 1:
            raise UsageError("--connections must be at least 1")
        if self.rate is not None and not self.messages:
            raise UsageError("--rate needs --message: a rate paces the messages pinkclinic sends")
        if self.amount is not None and self.per_connection is not None:
            raise UsageError("give either --amount or --per-connection, not both")
        if self.per_connection is not None:
            self.amount = self.per_connection * self.connections
        if self.workers:
            raise UsageError("--workers is not supported for ws:// yet")
        if self.pipelining != 1:
            raise UsageError("--pipelining does not apply to ws://")

    @property
    def mode(self) -> str:
        return "roundtrip" if self.messages else "push"


class WsStats:
    def __init__(self) -> None:
        self.connect_us: list[int] = []
        self.close_codes: dict[str, int] = {}
        self.handshake_status: dict[str, int] = {}
        # round-trip mode: connections whose --on-connect messages were (not) all answered
        self.greeted = self.unanswered = 0


def _close_kind(e, stats: WsStats) -> LaneError:
    rcvd, sent = getattr(e, "rcvd", None), getattr(e, "sent", None)
    if sent is not None and sent.code == 1009 and (rcvd is None or rcvd.code == 1009):
        return LaneError("oversized", "a message exceeded --max-size")
    if rcvd is not None:
        code = str(rcvd.code)
        stats.close_codes[code] = stats.close_codes.get(code, 0) + 1
        return LaneError("closed", f"close frame {code}")
    return LaneError("reset")


class WsLane:
    def __init__(self, spec: WsSpec, stats: WsStats, index: int):
        self.spec, self.stats = spec, stats
        self.ws = None
        self.i = index % len(spec.messages) if spec.messages else 0
        self.ssl = None
        if spec.url.startswith("wss://"):
            self.ssl = ssl.create_default_context()
            self.ssl.check_hostname = False
            self.ssl.verify_mode = ssl.CERT_NONE

    @property
    def connected(self) -> bool:
        return self.ws is not None

    @property
    def listens(self) -> bool:
        """Push mode: nothing is sent, so a silence is not a late answer."""
        return not self.spec.messages

    async def connect(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, InvalidStatus

        t = perf_counter_ns()
        try:
            self.ws = await connect(
                self.spec.url, additional_headers=self.spec.headers or None, compression=None,
                open_timeout=None, ping_interval=None, close_timeout=1, proxy=None,
                max_size=self.spec.max_size, user_agent_header=f"pinkclinic/{__version__}",
                ssl=self.ssl)
        except InvalidStatus as e:
            code = str(e.response.status_code)
            self.stats.handshake_status[code] = self.stats.handshake_status.get(code, 0) + 1
            raise LaneError("handshake", f"HTTP {code}") from None
        except (InvalidHandshake, EOFError) as e:
            raise LaneError("handshake", str(e)) from None
        except ConnectionRefusedError:
            raise LaneError("refused") from None
        except OSError as e:
            raise LaneError("connect", str(e)) from None
        self.stats.connect_us.append((perf_counter_ns() - t) // 1000)
        try:
            for m in self.spec.on_connect:
                await self.ws.send(m)
            if self.spec.on_connect and self.spec.messages:
                await self._settle()
        except Exception as e:
            raise self._failure(e) from None

    async def _settle(self) -> None:
        """Read the answers to the --on-connect messages, so that no timed round trip
        gets a reply that was meant for them."""
        st = self.stats
        if st.unanswered and not st.greeted:  # this server does not answer them: don't wait
            wait = SETTLE_S
        else:
            wait = min(ON_CONNECT_REPLY_S, self.spec.timeout / 2)
        for _ in self.spec.on_connect:
            try:
                await asyncio.wait_for(self.ws.recv(decode=False), wait)
            except asyncio.TimeoutError:
                st.unanswered += 1
                return
        st.greeted += 1
        while True:
            try:
                await asyncio.wait_for(self.ws.recv(decode=False), SETTLE_S)
            except asyncio.TimeoutError:
                return

    def _failure(self, e: Exception) -> LaneError:
        from websockets.exceptions import ConnectionClosed

        if isinstance(e, ConnectionClosed):
            return _close_kind(e, self.stats)
        if isinstance(e, OSError):
            return LaneError("reset", str(e))
        return LaneError("protocol", f"{type(e).__name__}: {e}")

    async def exchange(self) -> tuple[int, int, bool]:
        ws = self.ws
        try:
            msgs = self.spec.messages
            if msgs:
                await ws.send(msgs[self.i])
                self.i = (self.i + 1) % len(msgs)
            reply = await ws.recv(decode=False)  # bytes: the size on the wire, no decoding
        except Exception as e:
            raise self._failure(e) from None
        return 200, len(reply), bool(msgs)

    async def drop(self, final: bool = False) -> None:
        ws, self.ws = self.ws, None
        if ws is None:
            return
        if final:  # a close frame, so the server sees a normal end (1000)
            try:
                await asyncio.wait_for(ws.close(), 1.0)
            except Exception:
                pass
        ws.transport.abort()


def run_ws(spec: WsSpec, on_tick=None, stop=None) -> LoadResult:
    stats = WsStats()
    result = run_lanes(spec, lambda: [WsLane(spec, stats, i) for i in range(spec.connections)],
                       on_tick=on_tick, stop=stop, per_lane=spec.per_connection)
    result.ws_stats = stats
    return result
