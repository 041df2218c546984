"""What to send and how: the ``LoadSpec``, its checks, and run-unique ids for ``[<id>]``.

A spec is plain data (picklable, JSON-able) so that worker processes, doctor's
manifest and ``load.jsonl``'s header can all carry it. :mod:`pinkclinic.load.http1.encode`
turns its templates into request bytes.
"""

from __future__ import annotations

import base64
import dataclasses
import math
import os
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from pinkclinic import redact
from pinkclinic.errors import UsageError
from pinkclinic.load.core.urls import check_url

ID_MARK = "[<id>]"
BODY_METHODS = {"POST", "PUT", "PATCH"}
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token: a header name


@dataclass
class RequestTemplate:
    method: str = "GET"
    path: str = "/"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None


@dataclass
class LoadSpec:
    """One load run. ``requests`` empty means: ``method``/``headers``/``body`` on the URL's path."""

    url: str
    connections: int = 10
    pipelining: int = 1
    duration: float = 10.0
    amount: int | None = None
    timeout: float = 10.0
    method: str = "GET"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    requests: list[RequestTemplate] = field(default_factory=list)
    warmup: float = 0.0
    workers: int = 0
    rate: float | None = None
    correction: bool = True
    trace: bool = False  # record each request's step, send and answer times (doctor's routes)

    def __post_init__(self) -> None:
        self.validate()

    # -- derived ---------------------------------------------------------------
    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 80

    @property
    def authority(self) -> str:
        """host[:port] for the Host header: the URL's netloc without any user:password@."""
        return urlsplit(self.url).netloc.rpartition("@")[2]

    @property
    def basic_auth(self) -> str | None:
        """``Basic ...`` from the URL's user:password@, as curl and autocannon send it."""
        parts = urlsplit(self.url)
        if parts.username is None and parts.password is None:
            return None
        cred = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
        return "Basic " + base64.b64encode(cred.encode()).decode("ascii")

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def templates(self) -> list[RequestTemplate]:
        if self.requests:
            return list(self.requests)
        return [RequestTemplate(self.method, self.path, list(self.headers), self.body)]

    def validate(self) -> None:
        check_url(self.url)
        for name, low in (("connections", 1), ("pipelining", 1)):
            if int(getattr(self, name)) < low:
                raise UsageError(f"--{name} must be at least {low}")
        if self.amount is None and not 0 < self.duration < math.inf:
            raise UsageError("--duration must be a finite number of seconds above 0")
        if self.amount is not None and self.amount < 1:
            raise UsageError("--amount must be at least 1")
        if not 0 < self.timeout < math.inf:
            raise UsageError("--timeout must be a finite number of seconds above 0")
        if not 0 <= self.warmup < math.inf:
            raise UsageError("--warmup must be a finite number of seconds, at least 0")
        if self.rate is not None and not 0 < self.rate < math.inf:
            raise UsageError("--rate must be a finite number of requests per second above 0")
        if self.workers < 0:
            raise UsageError("--workers must not be negative")
        if self.workers > self.connections:
            raise UsageError(f"--workers ({self.workers}) must not exceed --connections "
                             f"({self.connections}): each worker needs a connection")
        for t in self.templates():
            if not t.method.isascii() or not t.method.isalpha():
                raise UsageError(f"invalid method {t.method!r}")
            if not t.path.startswith("/") or any(c in t.path for c in " \r\n"):
                raise UsageError(f"invalid request path {t.path!r} (must start with / and have no spaces)")
            for k, v in t.headers:
                problem = header_problem(k, v)
                if problem:
                    raise UsageError(problem)

    def split(self, n: int) -> list[LoadSpec]:
        """Shares for ``n`` workers: connections, amount and rate divided; totals preserved."""
        def share(total: int, i: int) -> int:
            return total // n + (1 if i < total % n else 0)

        out = []
        for i in range(n):
            s = dataclasses.replace(self, workers=0, connections=share(self.connections, i),
                                    amount=None if self.amount is None else share(self.amount, i),
                                    rate=None if self.rate is None else self.rate / n)
            out.append(s)
        return out

    def to_json(self) -> dict:
        d = dataclasses.asdict(self)
        del d["trace"]  # how the run was recorded, not what was sent
        d["headers"] = [list(h) for h in self.headers]
        d["body"] = None if self.body is None else self.body.decode("utf-8", "replace")
        d["requests"] = [{"method": r.method, "path": r.path, "headers": [list(h) for h in r.headers],
                          "body": None if r.body is None else r.body.decode("utf-8", "replace")}
                         for r in self.requests]
        return d


def header_problem(name: str, value: str) -> str | None:
    """Why a header cannot be sent as it is (a name that is not an HTTP token, a value on
    more than one line), or ``None``."""
    if TOKEN.fullmatch(name) and not any(c in value for c in "\r\n\0"):
        return None
    return (f"invalid header {name!r}: {redact.header_value(name, value)!r} (a name is ASCII letters, "
            "digits and !#$%&'*+-.^_`|~; a value is one line)")


class IdSource:
    """Run-unique ids for ``[<id>]``: a random run token plus a counter (workers interleave)."""

    def __init__(self, token: str | None = None, start: int = 0, step: int = 1):
        # os.urandom, as secrets.token_hex does: importing secrets loads OpenSSL (~5 ms)
        self.token = token or os.urandom(4).hex()
        self.n = start
        self.step = step

    def next(self) -> str:
        self.n += self.step
        return f"{self.token}-{self.n}"
