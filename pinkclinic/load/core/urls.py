"""A server's base URL, and the paths joined under it.

A base URL's path is a prefix, as artillery joins ``config.target`` and a request's
``url``: ``http://h/api`` and ``/items`` give ``http://h/api/items``. With no path to
join, the base URL is used as it is (path and query). Used by suites (``url:`` or the
URL argument), scenarios (``config.target``) and ``compare --a/--b URL``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

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
