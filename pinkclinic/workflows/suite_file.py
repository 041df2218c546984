"""The suite file: endpoints to load one after another, each with its own load.

.. code-block:: yaml

    url: http://127.0.0.1:8000      # optional: a server already running
    defaults:                       # load options for every endpoint
      connections: 10
      duration: 3
    endpoints:
      - name: home
        path: /
      - name: create item
        method: POST
        path: /items?id=[<id>]
        body: {"name": "widget"}    # a mapping or list is sent as JSON (with
                                    # Content-Type: application/json unless given)
        connections: 4              # this endpoint's own load options
        rate: 200

Load options: connections, pipelining, duration, amount, timeout, warmup, workers,
rate, correction (false = --no-correction), http2, streams. Precedence: built-in
defaults < ``defaults`` < the endpoint < options given on the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pinkclinic.load.core.yamlfile import (
    Fields,
    Node,
    NodeList,
    body_of,
    headers_of,
    load_yaml,
    url_of,
)
from pinkclinic.load.protocols import LOAD_KEYS

ENDPOINT_KEYS = ("name", "method", "path", "headers", "body")
INT_KEYS = ("connections", "pipelining", "amount", "workers", "streams")
FLOAT_KEYS = ("duration", "timeout", "rate")
MAXIMUM = {"connections": 100_000, "pipelining": 1000, "streams": 10_000}  # as on the CLI


@dataclass
class Endpoint:
    name: str
    method: str = "GET"
    path: str = "/"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    load: dict = field(default_factory=dict)
    line: int = 0


@dataclass
class Suite:
    path: str
    endpoints: list[Endpoint]
    url: str | None = None
    defaults: dict = field(default_factory=dict)


def load_options_of(f: Fields) -> dict:
    out: dict = {}
    for key in LOAD_KEYS:
        if key not in f.node:
            continue
        if key in INT_KEYS:
            out[key] = f.number(key, integer=True, minimum=1 if key != "workers" else 0,
                                open_min=False, maximum=MAXIMUM.get(key))
        elif key in FLOAT_KEYS:
            out[key] = f.number(key)
        elif key == "warmup":
            out[key] = f.number(key, open_min=False)
        else:  # correction, http2
            out[key] = f.get(key, bool)
    return out


def read_suite(path: str) -> Suite:
    top = Fields(path, load_yaml(path, "suite"), "")
    top.only("url", "defaults", "endpoints")
    url = url_of(top, "url")
    defaults = {}
    if top.get("defaults", dict) is not None:
        d = top.sub("defaults")
        d.only(*LOAD_KEYS)
        defaults = load_options_of(d)
    eps = top.get("endpoints", list, required=True)
    if not eps:
        raise top.error("endpoints", "must list at least one endpoint")
    endpoints, names = [], set()
    for i, node in enumerate(eps):
        e = Fields(path, node, f"endpoints[{i}]", eps.lines[i] if isinstance(eps, NodeList) else 0)
        e.only(*ENDPOINT_KEYS, *LOAD_KEYS)
        p = e.get("path", str, "/")
        if not p.startswith("/") and "://" not in p:
            raise e.error("path", f"{p!r} must start with / (or be a full URL)")
        if "://" in p:
            url_of(e, "path")
        elif any(c in p for c in " \r\n\t"):
            raise e.error("path", f"{p!r} has spaces or control characters (encode them: %20)")
        method = e.get("method", str, "GET").upper()
        if not method.isascii() or not method.isalpha():
            raise e.error("method", f"invalid method {method!r}")
        name = str(e.get("name", (str, int, float), p if method == "GET" else f"{method} {p}"))
        if name in names:
            raise e.error("name", f"{name!r} is used by an earlier endpoint")
        names.add(name)
        headers = headers_of(e)
        if isinstance(e.node.get("body"), (dict, list)) and \
                not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        endpoints.append(Endpoint(name=name, method=method, path=p, headers=headers,
                                  body=body_of(e), load=load_options_of(e),
                                  line=node.line if isinstance(node, Node) else 0))
    return Suite(path=path, endpoints=endpoints, url=url, defaults=defaults)
