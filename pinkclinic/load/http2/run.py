"""HTTP/2 load (``pinkclinic bench --http2``): ``-c`` connections, each carrying
``--streams`` concurrent streams, driven by the lane engine (one lane per stream
slot) so that rate pacing, wrk2's correction, amounts, timeouts and the result's
shape are those of HTTP/1.1 runs. ``http://`` is h2c with prior knowledge;
``https://`` is TLS with ALPN ``h2`` (certificates are not verified).

``--streams`` over the server's SETTINGS_MAX_CONCURRENT_STREAMS is capped at that
limit (read from one short connection before the run), as h2load does, and said.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from urllib.parse import urlsplit

from pinkclinic import __version__
from pinkclinic.errors import UsageError
from pinkclinic.load.core.loop import run_on_new_loop
from pinkclinic.load.core.result import LoadResult
from pinkclinic.load.core.spec import ID_MARK, IdSource, LoadSpec
from pinkclinic.load.http2.conn import H2Conn
from pinkclinic.load.lanes.engine import LaneError
from pinkclinic.load.lanes.runner import run_lanes

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
              "host", "te", "content-length"}


@dataclass
class H2Spec(LoadSpec):
    streams: int = 1
    server_max_streams: int | None = None  # the server's limit, once known
    streams_asked: int | None = None  # --streams, when it was capped at that limit
    protocol = "h2"

    def validate(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https"):
            raise UsageError(f"invalid URL {self.url!r}: expected http:// or https:// with --http2")
        if self.pipelining != 1:
            raise UsageError("--pipelining does not apply to --http2: use --streams")
        if self.workers:
            raise UsageError("--workers is not supported with --http2 yet")
        if self.streams < 1:
            raise UsageError("--streams must be at least 1")
        url = self.url
        self.url = "http://" + url.split("://", 1)[1]  # LoadSpec's checks speak http://
        try:
            super().validate()
        finally:
            self.url = url

    @property
    def tls(self) -> bool:
        return self.url.startswith("https://")

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or (443 if self.tls else 80)

    @classmethod
    def from_spec(cls, spec: LoadSpec, url: str, streams: int) -> H2Spec:
        fields = {f.name: getattr(spec, f.name) for f in dataclasses.fields(LoadSpec)}
        return cls(**{**fields, "url": url}, streams=streams)


class H2Pool:
    """One connection slot: its current H2Conn, opened once for all its stream lanes."""

    def __init__(self, spec: H2Spec):
        self.spec = spec
        self.conn: H2Conn | None = None
        self.opening: asyncio.Future | None = None

    async def ensure(self) -> H2Conn:
        if self.conn is not None and not self.conn.dead and not self.conn.draining:
            return self.conn
        if self.opening is None or self.opening.done():
            self.opening = asyncio.ensure_future(
                H2Conn.open(self.spec.host, self.spec.port, self.spec.tls))
        self.conn = await asyncio.shield(self.opening)
        return self.conn


class H2Lane:
    def __init__(self, spec: H2Spec, pool: H2Pool, index: int, ids: IdSource):
        self.spec, self.pool, self.ids = spec, pool, ids
        self.templates = spec.templates()
        self.i = index % len(self.templates)
        self.conn: H2Conn | None = None
        scheme = "https" if spec.tls else "http"
        self.base = [(b":scheme", scheme.encode()), (b":authority", spec.authority.encode())]

    @property
    def connected(self) -> bool:
        return self.conn is not None and not self.conn.dead and not self.conn.draining

    async def connect(self) -> None:
        self.conn = await self.pool.ensure()

    def _request(self) -> tuple[list, bytes | None]:
        t = self.templates[self.i]
        self.i = (self.i + 1) % len(self.templates)
        path, headers, body = t.path, t.headers, t.body
        if ID_MARK in path or any(ID_MARK in v for _, v in headers) or (
                body and ID_MARK.encode() in body):
            uid = self.ids.next()
            path = path.replace(ID_MARK, uid)
            headers = [(k, v.replace(ID_MARK, uid)) for k, v in headers]
            body = body.replace(ID_MARK.encode(), uid.encode()) if body else body
        hs = [(b":method", t.method.encode()), (b":path", path.encode()), *self.base]
        names = {k.lower() for k, _ in headers}
        if "user-agent" not in names:
            hs.append((b"user-agent", f"pinkclinic/{__version__}".encode()))
        hs += [(k.lower().encode(), v.encode()) for k, v in headers if k.lower() not in HOP_BY_HOP]
        if body is None and t.method.upper() in ("POST", "PUT", "PATCH"):
            body = b""
        if body is not None:
            hs.append((b"content-length", str(len(body)).encode()))
        return hs, body

    async def exchange(self) -> tuple[int, int, bool]:
        headers, body = self._request()
        status, nbytes = await self.conn.request(headers, body)
        return status, nbytes, True

    async def drop(self, final: bool = False) -> None:
        conn, self.conn = self.conn, None
        if conn is not None and (final or conn.dead):
            conn.close(graceful=final)


def server_max_streams(spec: H2Spec) -> int | None:
    """The server's SETTINGS_MAX_CONCURRENT_STREAMS, from one short connection (None if the
    connection fails: the run then reports that failure)."""
    async def probe() -> int:
        conn = await asyncio.wait_for(H2Conn.open(spec.host, spec.port, spec.tls),
                                      min(spec.timeout, 10.0))
        try:
            return conn.max_streams
        finally:
            conn.close(graceful=True)

    try:
        return run_on_new_loop(probe())
    except (LaneError, asyncio.TimeoutError):
        return None


def run_h2(spec: H2Spec, on_tick=None, stop=None) -> LoadResult:
    if spec.streams > 1 and spec.server_max_streams is None:
        spec.server_max_streams = server_max_streams(spec)
        limit = spec.server_max_streams
        if limit is not None and 0 < limit < spec.streams:
            spec.streams_asked, spec.streams = spec.streams, limit

    def lanes() -> list:
        ids = IdSource()
        pools = [H2Pool(spec) for _ in range(spec.connections)]
        return [H2Lane(spec, pool, s, ids) for pool in pools for s in range(spec.streams)]

    result = run_lanes(spec, lanes, on_tick=on_tick, stop=stop)
    if spec.streams_asked:
        result.notes.append(f"--streams {spec.streams_asked} is over the server's "
                            f"SETTINGS_MAX_CONCURRENT_STREAMS: {spec.streams} streams per "
                            "connection were used")
    if result.errors.get("streams"):
        result.notes.append("some streams were refused: --streams is over the server's "
                            "SETTINGS_MAX_CONCURRENT_STREAMS")
    return result


def h2_json(r: LoadResult) -> dict:
    """bench's ``--json`` object, with the streams asked for, used and allowed."""
    spec = r.spec
    return {**r.to_json(), "protocol": "h2", "streams": spec.streams,
            "streamsAsked": spec.streams_asked or spec.streams,
            "serverMaxStreams": spec.server_max_streams}
