"""Secrets never leave the run: what every saved or shown string goes through.

Reports get attached to tickets, so a recording, a load result, ``diagnosis.json``,
the HTML and the terminal carry no credential given on the command line. The values
themselves stay in memory for the run (the load generator sends them); only what is
written or shown is redacted:

* the values of the ``Authorization``, ``Proxy-Authorization``, ``Cookie`` and
  ``Set-Cookie`` headers, and of any header whose name contains *token*, *key*,
  *secret* or *passw* (``X-Api-Key``, ``X-CSRF-Token``); an auth scheme stays readable
  (``Authorization: Bearer ***``);
* the password of a ``user:password@`` URL, and query parameters named like a secret
  (``?api_key=***``);
* in a command line, the value of an option named like a secret (``--token=***``,
  ``--password ***``).

Environment variables are never recorded at all (:mod:`pinkclinic.recording`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "***"
_ALWAYS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_SECRET_WORD = re.compile(r"token|key|secret|passw", re.IGNORECASE)
_SCHEME = re.compile(r"^([A-Za-z][\w.+-]*)\s+\S")  # "Bearer abc" keeps "Bearer"

# A header in free text ("-H 'Authorization: Bearer x'", a YAML line): the name, then
# the value up to the end of the quoted word or line.
_HEADER_TEXT = re.compile(
    r"(?P<name>(?<![^\s'\"=])(?:proxy-authorization|authorization|set-cookie|cookie|"
    r"[\w-]*(?:token|key|secret|passw)[\w-]*))(?P<sep>\s*:[ \t]*)(?P<value>[^'\"\r\n]+)",
    re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]*):(?P<pw>[^@\s/'\"]+)@",
                           re.IGNORECASE)
_QUERY_SECRET = re.compile(
    r"(?P<name>[?&;][\w.-]*(?:token|key|secret|passw|auth|sig)[\w.-]*=)(?P<value>[^&#\s'\"]+)",
    re.IGNORECASE)
_SECRET_FLAG = re.compile(r"^(?P<flag>--?[\w-]*(?:token|key|secret|passw)[\w-]*)(?P<eq>=)?(?P<value>.*)$",
                          re.IGNORECASE | re.DOTALL)


def is_secret_header(name: str) -> bool:
    n = name.strip().lower()
    return n in _ALWAYS or bool(_SECRET_WORD.search(n))


def header_value(name: str, value: str) -> str:
    """``value`` as it may be written: masked for a secret header (its scheme kept)."""
    if not is_secret_header(name):
        return value
    m = _SCHEME.match(value.strip())
    if m and name.strip().lower() in ("authorization", "proxy-authorization"):
        return f"{m.group(1)} {MASK}"
    return MASK


def headers(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, header_value(k, v)) for k, v in pairs]


def text(s: str) -> str:
    """A free string (a URL, ``--load``'s options, a shell command) with its secrets masked."""
    if not s:
        return s

    def hdr(m: re.Match) -> str:
        return m.group("name") + m.group("sep") + header_value(m.group("name"), m.group("value"))

    s = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:{MASK}@", s)
    s = _QUERY_SECRET.sub(lambda m: m.group("name") + MASK, s)
    return _HEADER_TEXT.sub(hdr, s)


url = text


def command_line(s: str | None, *, _depth: int = 0) -> str | None:
    """A shell command line (``--load``'s options, ``--on-port``'s command), word by word
    as :func:`argv`, so a header's value ends where its word does."""
    import shlex

    if not s:
        return s
    try:
        words = shlex.split(s)
    except ValueError:
        return text(s)
    safe = argv(words, _depth=_depth)
    return s if safe == words else shlex.join(safe)


def argv(args: Iterable[str] | None, *, _depth: int = 0) -> list[str]:
    """A command line, word by word: each word as :func:`text` (a word that is itself a
    command line, such as ``--load``'s value, as :func:`command_line`), and the value of
    an option named like a secret (``--api-key=x``, ``--token x``) masked."""
    out: list[str] = []
    mask_next = False
    for a in args or ():
        a = str(a)
        if mask_next:
            out.append(MASK)
            mask_next = False
            continue
        m = _SECRET_FLAG.match(a)
        if m and a.startswith("-") and len(m.group("flag")) > 2:
            if m.group("eq"):
                out.append(m.group("flag") + "=" + MASK)
                continue
            if not m.group("value"):
                mask_next = True
                out.append(a)
                continue
        if _depth < 3 and any(c.isspace() for c in a):
            a = command_line(a, _depth=_depth + 1)
        out.append(text(a))
    return out


def spaced(cmdline: str) -> str:
    """A command line joined with spaces and no quoting (py-spy's process names)."""
    return text(" ".join(argv(cmdline.split(" "), _depth=3)))


def value(v: Any) -> Any:
    """Any JSON-able value with every string in it as :func:`text`."""
    if isinstance(v, str):
        return text(v)
    if isinstance(v, dict):
        return {k: value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [value(x) for x in v]
    return v
