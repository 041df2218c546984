"""One HTTP/2 client connection (the ``h2`` library's state machine on an asyncio
Protocol): h2c with prior knowledge, or TLS with ALPN ``h2``. Many streams share it;
each ``request()`` opens a stream and awaits its end.

Errors become :class:`LaneError` kinds: ``refused``/``connect`` (TCP), ``alpn`` (TLS
without h2), ``reset`` (RST_STREAM, or the connection ended), ``goaway``,
``malformed`` (a protocol error), ``streams`` (over the server's stream limit). A
graceful GOAWAY (NO_ERROR, e.g. hypercorn's 1,000 requests per connection) is no
error: streams the server took complete, the others are sent again (``retry``).

``open()`` returns once the server's SETTINGS have arrived, so that its limits are
known to the sending side (:mod:`pinkclinic.load.http2.send`).
"""

from __future__ import annotations

import asyncio
import ssl

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import (
    ConnectionTerminated,
    DataReceived,
    RemoteSettingsChanged,
    ResponseReceived,
    StreamEnded,
    StreamReset,
)
from h2.exceptions import H2Error

from pinkclinic.load.http2.send import SendMixin, Stream
from pinkclinic.load.lanes.engine import RETRY, LaneError

GOAWAY_GRACE_S = 1.0


class H2Conn(SendMixin, asyncio.Protocol):
    def __init__(self) -> None:
        # our own headers are valid by construction: skip h2's per-request checks (~2x cheaper)
        self.h2 = H2Connection(H2Configuration(
            client_side=True, header_encoding=None, validate_outbound_headers=False,
            normalize_outbound_headers=False, validate_inbound_headers=False,
            normalize_inbound_headers=False))
        self.streams: dict[int, Stream] = {}
        self.transport = None
        self.dead = False
        self.draining = False
        self.closed = False
        self.settings: asyncio.Future = asyncio.get_running_loop().create_future()
        self._changed: asyncio.Future | None = None  # a stream ended, a window opened...

    @classmethod
    async def open(cls, host: str, port: int, tls: bool) -> H2Conn:
        loop = asyncio.get_running_loop()
        ctx = None
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE  # load testing one's own server: as wrk does
            ctx.set_alpn_protocols(["h2"])
        try:
            _, conn = await loop.create_connection(cls, host, port, ssl=ctx,
                                                   server_hostname=host if tls else None)
        except ConnectionRefusedError:
            raise LaneError("refused") from None
        except ssl.SSLError as e:
            raise LaneError("tls", str(e)) from None
        except OSError as e:
            raise LaneError("connect", str(e)) from None
        if tls:
            sslobj = conn.transport.get_extra_info("ssl_object")
            if sslobj is None or sslobj.selected_alpn_protocol() != "h2":
                conn.close()
                raise LaneError("alpn", "the server did not agree to h2 through ALPN")
        try:
            await asyncio.shield(conn.settings)  # the server's first frame
        except asyncio.CancelledError:
            conn.close()
            raise
        return conn

    @property
    def max_streams(self) -> int:
        return self.h2.remote_settings.max_concurrent_streams

    # -- asyncio ----------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        self.h2.initiate_connection()
        self.h2.increment_flow_control_window(1 << 24)  # don't throttle large answers
        transport.write(self.h2.data_to_send())

    def data_received(self, data: bytes) -> None:
        try:
            events = self.h2.receive_data(data)
        except H2Error:
            self._fail_all(LaneError("malformed"))
            self.close()
            return
        self._wake()
        for ev in events:
            st = self.streams.get(getattr(ev, "stream_id", 0))
            if isinstance(ev, DataReceived):
                self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                if st is not None:
                    st.nbytes += len(ev.data)
            elif isinstance(ev, ResponseReceived) and st is not None:
                for k, v in ev.headers:
                    if k == b":status":
                        st.status = int(v)
            elif isinstance(ev, StreamEnded) and st is not None:
                del self.streams[ev.stream_id]
                if not st.fut.done():
                    st.fut.set_result((st.status, st.nbytes))
            elif isinstance(ev, StreamReset) and st is not None:
                del self.streams[ev.stream_id]
                if not st.fut.done():
                    st.fut.set_exception(LaneError("reset", f"RST_STREAM {ev.error_code}"))
            elif isinstance(ev, RemoteSettingsChanged) and not self.settings.done():
                self.settings.set_result(None)
            elif isinstance(ev, ConnectionTerminated):
                self.draining = True  # no new streams here
                if ev.error_code == ErrorCodes.NO_ERROR:  # graceful: streams it took complete
                    for sid in [i for i in self.streams if i > (ev.last_stream_id or 0)]:
                        st = self.streams.pop(sid)
                        if not st.fut.done():  # never processed: sent again elsewhere
                            st.fut.set_exception(LaneError(RETRY))
                    if self.streams:
                        # they should complete; but hypercorn (after keep_alive_max_requests)
                        # never answers the stream that triggered its GOAWAY and hangs up only
                        # after its keep-alive timeout: give them GOAWAY_GRACE_S at most
                        asyncio.get_running_loop().call_later(GOAWAY_GRACE_S, self._abandon)
                else:
                    self.dead = True
                    self._fail_all(LaneError("goaway", f"GOAWAY {ev.error_code}"))
        out = self.h2.data_to_send()
        if out and self.transport is not None:
            self.transport.write(out)

    def connection_lost(self, exc) -> None:
        self.dead = True
        self._fail_all(LaneError("reset"))
        self._wake()

    def _abandon(self) -> None:
        if self.streams:
            self.dead = True
            self._fail_all(LaneError("goaway", "unanswered after a graceful GOAWAY"))
            self.close()

    def _fail_all(self, err: LaneError) -> None:
        if not self.settings.done():
            self.settings.set_exception(err)
            self.settings.exception()  # retrieved: nobody may be awaiting it
        streams, self.streams = self.streams, {}
        for st in streams.values():
            if not st.fut.done():
                st.fut.set_exception(err)

    # -- requests ---------------------------------------------------------------------------
    def close(self, graceful: bool = False) -> None:
        if self.transport is None or self.closed:
            return
        self.closed = True
        if graceful and not self.dead:
            try:
                self.h2.close_connection()
                self.transport.write(self.h2.data_to_send())
            except H2Error:
                pass
            self.transport.close()
        else:
            self.transport.abort()
        self.dead = True
