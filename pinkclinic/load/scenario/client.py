"""The HTTP/1.1 client of a scenario's virtual users: one keep-alive connection per user,
whole responses (status, headers, body) so that values can be captured from them.

Simpler than the bench engine's connections (one request at a time, a coroutine per
user), which is what an open model with think times needs.
"""

from __future__ import annotations

import asyncio

import httptools

from pinkclinic import __version__
from pinkclinic.load.lanes.engine import LaneError


class _Response:
    def __init__(self) -> None:
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = bytearray()
        self.done = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.done = True


class VuConnection:
    def __init__(self, host: str, port: int, authority: str):
        self.host, self.port, self.authority = host, port, authority
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.nbytes = 0

    async def _connect(self) -> None:
        try:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        except ConnectionRefusedError:
            raise LaneError("refused") from None
        except OSError as e:
            raise LaneError("connect", str(e)) from None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.transport.abort()
        self.reader = self.writer = None

    def encode(self, method: str, path: str, headers: list[tuple[str, str]],
               body: bytes | None) -> bytes:
        names = {k.lower() for k, _ in headers}
        lines = [f"{method} {path} HTTP/1.1"]
        if "host" not in names:
            lines.append(f"Host: {self.authority}")
        if "user-agent" not in names:
            lines.append(f"User-Agent: pinkclinic/{__version__}")
        lines += [f"{k}: {v}" for k, v in headers if k.lower() != "content-length"]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + (body or b"")

    async def request(self, method: str, path: str, headers: list[tuple[str, str]],
                      body: bytes | None) -> _Response:
        """One request on the kept-alive connection (reopened if the server closed it)."""
        data = self.encode(method, path, headers, body)
        for attempt in (0, 1):
            reused = self.writer is not None
            if not reused:
                await self._connect()
            try:
                return await self._exchange(data, method)
            except LaneError as e:
                self.close()
                if not (reused and attempt == 0 and e.kind == "closed"):
                    raise
        raise LaneError("closed")  # pragma: no cover - the loop always returns or raises

    async def _exchange(self, data: bytes, method: str) -> _Response:
        resp = _Response()
        parser = httptools.HttpResponseParser(resp)
        try:
            self.writer.write(data)
            got_any = False
            while not resp.done:
                chunk = await self.reader.read(65536)
                if not chunk:
                    if got_any and resp.status and not parser.should_keep_alive():
                        parser.feed_data(b"")  # a body delimited by the close
                        if resp.done:
                            break
                    raise LaneError("reset" if got_any else "closed")
                got_any = True
                self.nbytes += len(chunk)
                if resp.status == 0:
                    resp.status = _status(chunk)
                parser.feed_data(chunk)
                if method == "HEAD" and resp.headers and b"\r\n\r\n" in chunk:
                    resp.done = True
        except httptools.HttpParserError:
            raise LaneError("malformed") from None
        except (ConnectionResetError, BrokenPipeError):
            raise LaneError("reset") from None
        resp.status = parser.get_status_code()
        if not parser.should_keep_alive():
            self.close()
        return resp


def _status(chunk: bytes) -> int:
    try:
        return int(chunk[9:12])
    except ValueError:
        return 0
