"""What a report's HTML holds, read without a browser: its Content-Security-Policy and the
data of its flame graphs.

    from tests.reports import assert_offline_csp, flame_functions

    assert_offline_csp(html)                # the policy forbids every network request
    assert "hot" in flame_functions(html)   # function names of every flame graph on the page
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

# Sources a report may allow: inline code, and data: URLs (images). Anything else
# ('self', a scheme such as https: or ws:, a host, *) would let the page fetch.
OFFLINE_SOURCES = {"'none'", "'unsafe-inline'", "data:"}
# Directives that fall back to default-src when absent (CSP level 3).
FETCH_DIRECTIVES = ("default-src", "connect-src", "script-src", "style-src", "img-src",
                    "font-src", "media-src", "object-src", "frame-src", "child-src",
                    "worker-src", "manifest-src", "prefetch-src")


class _Metas(HTMLParser):
    def __init__(self):
        super().__init__()
        self.csp: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp.append(a.get("content") or "")


def csp_directives(html: str) -> dict[str, list[str]]:
    """The page's one CSP meta tag, as {directive: sources}."""
    parser = _Metas()
    parser.feed(html)
    assert len(parser.csp) == 1, f"expected one CSP meta tag, found {len(parser.csp)}"
    out: dict[str, list[str]] = {}
    for part in parser.csp[0].split(";"):
        words = part.split()
        if words:
            out.setdefault(words[0].lower(), [w.lower() for w in words[1:]])
    return out


def assert_offline_csp(html: str) -> None:
    """The CSP forbids every network request: nothing may be fetched, connected to, framed,
    posted or used as a base URL; only inline code and data: images are allowed."""
    d = csp_directives(html)
    assert d.get("default-src") == ["'none'"], d
    for name in FETCH_DIRECTIVES:
        sources = set(d.get(name, d["default-src"]))
        assert sources <= OFFLINE_SOURCES, f"{name} allows {sorted(sources - OFFLINE_SOURCES)}"
    assert set(d.get("connect-src", d["default-src"])) == {"'none'"}, d
    assert d.get("form-action") == ["'none'"] and d.get("base-uri") == ["'none'"], d


def flame_data(html: str) -> list[dict]:
    """The data of every flame graph on the page (``<script type="application/json"
    id="...-data">``)."""
    blobs = re.findall(r'<script type="application/json" id="[^"]*-data">(.*?)</script>', html, re.S)
    return [json.loads(b) for b in blobs]


def flame_functions(html: str) -> set[str]:
    """Every function name the page's flame graphs hold (frames are ``[name, file, line,
    area]`` indices into ``strings``, 4 to a frame)."""
    out = set()
    for data in flame_data(html):
        frames = data["frames"]
        out |= {data["strings"][frames[i]] for i in range(0, len(frames), 4)}
    return out


class _Tables(HTMLParser):
    def __init__(self, cls: str):
        super().__init__()
        self.cls, self.depth, self.rows = cls, 0, []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and (self.depth or self.cls in classes):
            self.depth += 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str, cls: str) -> list[list[str]]:
    """The rows (cell texts, whitespace collapsed) of the tables of class ``cls``."""
    parser = _Tables(cls)
    parser.feed(html)
    return [r for r in parser.rows if r]
