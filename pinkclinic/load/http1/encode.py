"""Pre-encoded HTTP/1.1 requests: one :class:`Encoder` per request template, and the
:class:`Requests` of a run.

A template is encoded to bytes once, before the run; only one that contains
``[<id>]`` is re-encoded per request, with a run-unique id. ``Host`` is the URL's
host[:port] and a URL's ``user:password@`` becomes ``Authorization: Basic``,
unless the template sets those headers itself.
"""

from __future__ import annotations

from pinkclinic import __version__
from pinkclinic.load.core.spec import BODY_METHODS, ID_MARK, IdSource, LoadSpec, RequestTemplate


class Encoder:
    """Turns one template into request bytes; fast (constant bytes) unless it has ``[<id>]``."""

    __slots__ = ("body", "const", "has_id", "head", "ids", "is_head")

    def __init__(self, t: RequestTemplate, authority: str, ids: IdSource,
                 auth: str | None = None):
        names = {k.lower() for k, _ in t.headers}
        lines = [f"{t.method} {t.path} HTTP/1.1"]
        if "host" not in names:
            lines.append(f"Host: {authority}")
        if auth is not None and "authorization" not in names:
            lines.append(f"Authorization: {auth}")
        if "user-agent" not in names:
            lines.append(f"User-Agent: pinkclinic/{__version__}")
        lines += [f"{k}: {v}" for k, v in t.headers if k.lower() != "content-length"]
        self.head = "\r\n".join(lines) + "\r\n"
        self.body = t.body.decode("utf-8", "surrogateescape") if t.body is not None else None
        if self.body is None and t.method.upper() in BODY_METHODS:
            self.body = ""
        self.has_id = ID_MARK in self.head or (self.body is not None and ID_MARK in self.body)
        self.is_head = t.method.upper() == "HEAD"
        self.ids = ids
        self.const = None if self.has_id else self._encode(self.head, self.body)

    @staticmethod
    def _encode(head: str, body: str | None) -> bytes:
        if body is None:
            return (head + "\r\n").encode("utf-8", "surrogateescape")
        b = body.encode("utf-8", "surrogateescape")
        return (head + f"Content-Length: {len(b)}\r\n\r\n").encode("utf-8", "surrogateescape") + b

    def __call__(self) -> bytes:
        if self.const is not None:
            return self.const
        i = self.ids.next()
        body = None if self.body is None else self.body.replace(ID_MARK, i)
        return self._encode(self.head.replace(ID_MARK, i), body)


class Requests:
    """The requests of a run: one constant request (``static``, the fast path), or a
    sequence that each connection slot runs from its first step, in a cycle. A slot keeps
    its place across reconnects (``positions``), as autocannon's client does."""

    def __init__(self, spec: LoadSpec, ids: IdSource):
        auth = spec.basic_auth
        self.encoders = [Encoder(t, spec.authority, ids, auth) for t in spec.templates()]
        self.has_head = any(e.is_head for e in self.encoders)
        single = len(self.encoders) == 1 and self.encoders[0].const is not None
        self.static = self.encoders[0].const if single and not self.has_head else None
        self.positions = [0] * spec.connections  # each slot's next step of the sequence

    def rewind(self, slot: int, unanswered: int) -> None:
        """The last ``unanswered`` steps of ``slot`` went unanswered: send them again, in order."""
        n = len(self.encoders)
        if unanswered and n > 1:
            self.positions[slot] = (self.positions[slot] - unanswered) % n
