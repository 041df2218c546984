"""``H1HeadConn``: for request sequences with HEAD, every response parsed by hand.

A response to HEAD carries no body, which httptools cannot be told, so this
class reads status lines, headers, Content-Length, chunked and read-until-close
bodies itself, and matches each response with the request it answers.
"""

from __future__ import annotations

from collections import deque

from pinkclinic.load.http1.conn import MALFORMED, H1Conn


def _header(head: bytes, name: bytes) -> bytes | None:
    """The value of header ``name`` in a lower-cased header block, or None."""
    i = head.find(b"\r\n" + name + b":")
    if i < 0:
        return None
    return head[i + len(name) + 3:].split(b"\r\n", 1)[0].strip()


class H1HeadConn(H1Conn):
    """For sequences with HEAD requests: every response parsed by hand.

    httptools cannot be told that a response answers a HEAD (and so has no body),
    nor be stopped between two pipelined responses.
    """

    __slots__ = ("hbuf", "heads", "ka", "mstate", "mstatus", "need")

    def __init__(self, conns, slot: int):
        super().__init__(conns, slot)
        self.heads: deque[bool] = deque()
        self.hbuf = b""
        self.mstate: str | None = None
        self.mstatus = 0
        self.need = 0
        self.ka = True
        self.req = None

    def next_request(self) -> bytes:
        enc = self.next_encoder()
        self.heads.append(enc.is_head)
        return enc()

    def data_received(self, data: bytes) -> None:
        self.rec.nbytes += len(data)
        self.got = True
        self._data_with_heads(data)

    def eof_delimited(self) -> bool:
        return self.mstate == "eof"

    def eof_complete(self) -> None:
        self._done()

    def complete(self, status: int, keep_alive: bool | None = None) -> None:
        if self.heads:
            self.heads.popleft()
        super().complete(status, self.ka if keep_alive is None else keep_alive)

    def _data_with_heads(self, data: bytes) -> None:
        buf = self.hbuf + data if self.hbuf else data
        self.hbuf = b""
        while buf and not self.dead and not self.closing:
            st = self.mstate
            if st is None:  # status line and headers
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > 65536:
                        self.drop(MALFORMED)
                    else:
                        self.hbuf = buf
                    return
                head, buf = buf[:end].lower(), buf[end + 4:]
                if not self._head(head):
                    return
                continue
            if st == "len":
                take = min(self.need, len(buf))
                self.need -= take
                buf = buf[take:]
                if not self.need:
                    self._done()
            elif st == "size":
                end = buf.find(b"\r\n")
                if end < 0:
                    self.hbuf = buf
                    return
                try:
                    size = int(buf[:end].split(b";")[0], 16)
                except ValueError:
                    self.drop(MALFORMED)
                    return
                buf = buf[end + 2:]
                self.mstate, self.need = ("data", size + 2) if size else ("trailer", 0)
            elif st == "data":
                take = min(self.need, len(buf))
                self.need -= take
                buf = buf[take:]
                if not self.need:
                    self.mstate = "size"
            elif st == "trailer":
                end = buf.find(b"\r\n")
                if end < 0:
                    self.hbuf = buf
                    return
                buf = buf[end + 2:]
                if end == 0:
                    self._done()
            else:  # "eof": the body ends when the server closes
                return

    def _head(self, head: bytes) -> bool:
        try:
            if not head.startswith(b"http/1."):
                raise ValueError
            status = int(head[9:12])
        except ValueError:
            self.drop(MALFORMED)
            return False
        self.mstatus = status
        if status < 200 and status != 101:
            return True  # interim: the real response follows
        conn = _header(head, b"connection")
        if status == 101:  # switched protocols: the connection is retired (http1.upgraded)
            self.ka = False
        elif head.startswith(b"http/1.0"):
            self.ka = conn is not None and b"keep-alive" in conn
        else:
            self.ka = conn is None or b"close" not in conn
        self.got = True
        te, cl = _header(head, b"transfer-encoding"), _header(head, b"content-length")
        if (self.heads and self.heads[0]) or status in (204, 304) or status == 101:
            self._done()
        elif te is not None and b"chunked" in te:
            self.mstate = "size"
        elif cl is not None:
            try:
                self.need = int(cl)
            except ValueError:
                self.drop(MALFORMED)
                return False
            self.mstate = "len"
            if not self.need:
                self._done()
        else:
            self.mstate = "eof"
            self.got = True
        return True

    def _done(self) -> None:
        self.mstate = None
        self.complete(self.mstatus)  # eof bodies complete through connection_lost()
