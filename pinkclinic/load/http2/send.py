"""The sending side of an HTTP/2 connection (a mixin of :class:`~pinkclinic.load.http2.conn.H2Conn`).

A request waits for a free stream while the server's SETTINGS_MAX_CONCURRENT_STREAMS
are all in use (instead of failing, and being retried at once, in a hot loop). A body
goes out in DATA frames no larger than the server's maximum frame size and the
stream's and connection's flow-control windows, waiting for WINDOW_UPDATE when they
are spent: one ``send_data`` of a body over 16 KiB (or 64 KiB) is a protocol error.
"""

from __future__ import annotations

import asyncio

from h2.exceptions import H2Error, TooManyStreamsError

from pinkclinic.load.lanes.engine import RETRY, LaneError


class Stream:
    __slots__ = ("fut", "nbytes", "status")

    def __init__(self, fut: asyncio.Future):
        self.fut, self.status, self.nbytes = fut, 0, 0


class SendMixin:
    """Needs ``h2``, ``transport``, ``streams``, ``dead``, ``draining``, ``max_streams``
    and ``_changed``; the connection calls ``_wake()`` whenever something arrives."""

    def _wake(self) -> None:
        """Wake the requests waiting for a free stream or for flow-control window."""
        fut, self._changed = self._changed, None
        if fut is not None and not fut.done():
            fut.set_result(None)

    async def _until_changed(self, st: Stream | None = None) -> None:
        if self._changed is None:
            self._changed = asyncio.get_running_loop().create_future()
        await asyncio.wait([self._changed, *([st.fut] if st else [])],
                           return_when=asyncio.FIRST_COMPLETED)

    async def request(self, headers: list[tuple[bytes, bytes]], body: bytes | None) -> tuple[int, int]:
        h2 = self.h2
        while not (self.dead or self.draining) and h2.open_outbound_streams >= self.max_streams:
            await self._until_changed()  # every stream the server allows is in use
        if self.dead or self.draining:
            raise LaneError(RETRY)
        try:
            sid = h2.get_next_available_stream_id()
            h2.send_headers(sid, headers, end_stream=body is None)
        except TooManyStreamsError:
            raise LaneError("streams", "over the server's concurrent stream limit") from None
        except H2Error as e:
            raise LaneError("malformed", str(e)) from None
        st = self.streams[sid] = Stream(asyncio.get_running_loop().create_future())
        self.transport.write(h2.data_to_send())
        try:
            if body is not None:
                await self._send_body(sid, st, body)
            return await st.fut
        except asyncio.CancelledError:  # a timeout, or the end of the run: reset the stream
            self.streams.pop(sid, None)
            self._reset(sid)
            raise

    async def _send_body(self, sid: int, st: Stream, body: bytes) -> None:
        """DATA frames within the frame size and the windows; waits for WINDOW_UPDATE."""
        h2, off, view = self.h2, 0, memoryview(body)
        while not st.fut.done():
            if self.dead:
                raise LaneError("reset")
            try:
                n = min(len(body) - off, h2.local_flow_control_window(sid),
                        h2.max_outbound_frame_size)
                if n > 0 or off == len(body):
                    h2.send_data(sid, view[off:off + n].tobytes(), end_stream=off + n == len(body))
                    off += n
                    self.transport.write(h2.data_to_send())
                    if off == len(body):
                        return
                    continue
            except H2Error as e:
                if st.fut.done():  # reset by the server meanwhile: its error is the answer
                    break
                raise LaneError("malformed", str(e)) from None
            await self._until_changed(st)
        if not st.fut.done() or st.fut.exception() is None:
            self._reset(sid)  # answered before the whole body was sent: stop sending it

    def _reset(self, sid: int) -> None:
        if not self.dead:
            try:
                self.h2.reset_stream(sid)
                self.transport.write(self.h2.data_to_send())
            except H2Error:
                pass
