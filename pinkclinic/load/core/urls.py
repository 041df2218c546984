"""Server URLs: their checks, and the two ways a path is joined to one.

* ``join_base`` (suites, scenarios, ``compare --a/--b URL``): a base URL's path is a
  prefix, as artillery joins ``config.target`` and a request's ``url``: ``http://h/api``
  and ``/items`` give ``http://h/api/items``. With no path to join, the base URL is used
  as it is (path and query).
* ``join_url`` (the last word of bench's options, e.g. doctor's ``--load``): a full URL,
  or a path that replaces the base URL's path.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from pinkclinic.errors import UsageError


def url_problem(url: str, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """Why ``url`` is not a usable server URL, or ``None``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        return f"invalid URL {url!r}: {e}"
    if parts.scheme not in schemes or not parts.hostname:
        return f"invalid URL {url!r}: expected {' or '.join(s + '://' for s in schemes)}HOST[:PORT]"
    if port == 0:
        return f"invalid URL {url!r}: port 0"
    if any(c in url for c in " \r\n\t\0"):
        return f"invalid URL {url!r}: it has spaces or control characters"
    return None


def check_base(url: str, schemes: tuple[str, ...] = ("http", "https")) -> str:
    problem = url_problem(url, schemes)
    if problem:
        raise UsageError(problem)
    return url


def join_base(base_url: str, target: str | None) -> str:
    """``target`` (a path, a full URL, or ``None`` for the base itself) under ``base_url``."""
    if target is not None and "://" in target:
        return target
    parts = urlsplit(base_url)
    root = f"{parts.scheme}://{parts.netloc}"
    if target is None:
        return root + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not target.startswith("/"):
        raise UsageError(f"invalid path {target!r}: must start with /")
    return root + parts.path.rstrip("/") + target


def check_url(url: str) -> None:
    if url.startswith("https://"):
        raise UsageError(f"{url}: https is not supported; pinkclinic bench speaks plain HTTP/1.1")
    problem = url_problem(url, ("http",))
    if problem:
        raise UsageError(problem)


def join_url(base_url: str | None, target: str | None) -> str:
    """``target`` is a full URL, or a path joined to ``base_url``."""
    target = target or "/"
    if "://" in target:
        return target
    if not base_url:
        raise UsageError(f"{target!r} is a path, but there is no server URL to join it to")
    if not target.startswith("/"):
        raise UsageError(f"invalid path {target!r}: must start with /")
    base = urlsplit(base_url)
    return urljoin(f"{base.scheme}://{base.netloc}/", target)
