"""The steps of a scenario's flow (artillery's model), read and checked before anything runs.

A step is one request (``get``, ``post``, ... with ``url``, ``headers``, ``json`` or
``body``, and ``capture``), a ``think`` (seconds, or a duration such as ``"500ms"``),
or a ``loop`` of steps repeated ``count`` times (expanded when the file is read).
``{{ name }}`` uses a value captured earlier in the same flow, or ``vu``.

The static parts are checked like a suite's: a URL path without spaces or control
characters, header names that are HTTP tokens, header values on one line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from pinkclinic.load.core.spec import header_problem
from pinkclinic.load.core.yamlfile import Fields, headers_of

METHODS = ("get", "post", "put", "patch", "delete", "head")
TEMPLATE_RE = re.compile(r"\{\{\s*([A-Za-z_$][\w$]*)\s*\}\}")
JSONPATH_RE = re.compile(r"^\$((\.[A-Za-z_$][\w$-]*|\[\d+\]|\['[^']*'\]|\[\"[^\"]*\"\])*)$")
BUILTINS = {"vu"}
MAX_LOOP_STEPS = 100_000  # a loop is expanded when read: keep the flow a sane size
DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)?\s*$")
UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


@dataclass
class Capture:
    kind: str  # "json", "header" or "regexp"
    expr: str
    name: str
    pattern: re.Pattern | None = None  # regexp: compiled when the file is read
    group: int | str | None = None  # regexp: the group to keep (default: the first, or all)


@dataclass
class Step:
    method: str | None = None  # None: think
    url: str = "/"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str | None = None
    json_body: bool = False
    captures: list[Capture] = field(default_factory=list)
    think: float = 0.0
    line: int = 0


def seconds(f: Fields, key: str, *, open_min: bool = True) -> float | None:
    """A number of seconds, or a duration string like artillery's: "500ms", "30s", "2m"."""
    value = f.node.get(key)
    if not isinstance(value, str):
        return f.number(key, open_min=open_min)
    m = DURATION_RE.match(value)
    if not m:
        raise f.error(key, f"{value!r} is not a duration (seconds, or e.g. 500ms, 30s, 2m, 1h)")
    unit = (m.group(2) or "s")
    out = float(m.group(1)) * UNIT_S["ms" if unit == "ms" else unit[0]]
    if out < 0 or (open_min and out == 0):
        raise f.error(key, f"must be {'more than' if open_min else 'at least'} 0")
    return out


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def read_steps(path: str, node, f: Fields, key: str, known: set[str]) -> list[Step]:
    """The steps of ``f.node[key]`` (a list), loops expanded."""
    steps: list[Step] = []
    for j, st in enumerate(node):
        g = Fields(path, st, f.field(f"{key}[{j}]"), node.lines[j])
        if "loop" in g.node:
            g.only("loop", "count")
            inner = g.get("loop", list, required=True)
            if not inner:
                raise g.error("loop", "must have at least one step")
            if "count" not in g.node:
                raise g.error(None, "a loop needs count: N (pinkclinic does not loop forever)")
            count = g.number("count", integer=True, minimum=1, open_min=False)
            body = read_steps(path, inner, g, "loop", known)
            if len(body) * count > MAX_LOOP_STEPS:
                raise g.error("count", f"{count} × {len(body)} steps is over {MAX_LOOP_STEPS:,}")
            steps += body * count
        else:
            steps.append(read_step(g, known))
    return steps


def read_step(f: Fields, known: set[str]) -> Step:
    if "think" in f.node:
        f.only("think")
        return Step(think=seconds(f, "think", open_min=False), line=f.line())
    methods = [k for k in f.node if k in METHODS]
    if len(methods) != 1 or len(f.node) != 1:
        raise f.error(None, f"a step is one of {', '.join(METHODS)}, think or loop, "
                            f"got: {', '.join(map(str, f.node)) or 'nothing'}")
    method = methods[0]
    r = f.sub(method)
    r.only("url", "headers", "json", "body", "capture")
    url = r.get("url", str, required=True)
    if not url.startswith("/") and not url.startswith("{{"):
        raise r.error("url", f"{url!r} must be a path starting with /")
    if any(c in TEMPLATE_RE.sub("", url) for c in " \t\r\n\0"):
        raise r.error("url", f"{url!r} has spaces or control characters (encode them: %20)")
    if "json" in r.node and "body" in r.node:
        raise r.error("body", "give either json or body, not both")
    body, is_json = None, False
    if r.node.get("json") is not None:
        body, is_json = json.dumps(r.node["json"]), True
    elif r.node.get("body") is not None:
        body = str(r.node["body"])
    headers = headers_of(r)
    for k, v in headers:
        problem = header_problem(k, v)
        if problem:
            raise r.error("headers", problem)
    for key, texts in (("url", [url]), ("headers", _strings(r.node.get("headers"))),
                       ("json" if is_json else "body", _strings(r.node.get("json", body)))):
        for name in TEMPLATE_RE.findall(" ".join(texts)):
            if name not in known and name not in BUILTINS:
                raise r.error(key, f"{{{{ {name} }}}} is not captured by an earlier step")
    captures = read_captures(f, r)
    known.update(c.name for c in captures)
    return Step(method=method.upper(), url=url, headers=headers, body=body, json_body=is_json,
                captures=captures, line=f.line())


def read_captures(f: Fields, r: Fields) -> list[Capture]:
    captures = []
    if r.node.get("capture") is None:
        return captures
    raw = r.node["capture"]
    items = raw if isinstance(raw, list) else [raw]
    for i, item in enumerate(items):
        c = Fields(f.path, item, r.field("capture") + (f"[{i}]" if isinstance(raw, list) else ""),
                   r.line("capture"))
        c.only("json", "header", "regexp", "group", "flags", "as")
        kind = alias(c, "json", "header", "regexp")
        if kind is None:
            raise c.error(None, "needs json: $.path, header: NAME or regexp: PATTERN")
        expr = c.get(kind, str)
        if kind == "json" and not JSONPATH_RE.match(expr):
            raise c.error("json", f"{expr!r} is not a path like $.token or $.items[0].id")
        for key in ("group", "flags"):
            if key in c.node and kind != "regexp":
                raise c.error(key, "goes with regexp only")
        cap = Capture(kind, expr, c.get("as", str, required=True))
        if kind == "regexp":
            cap.pattern, cap.group = read_regexp(c, expr)
        captures.append(cap)
    return captures


def read_regexp(c: Fields, expr: str) -> tuple[re.Pattern, int | str | None]:
    """artillery's ``regexp`` capture: ``flags`` of i, m, s; ``group`` a number or a name."""
    flags = 0
    for ch in c.get("flags", str, ""):
        if ch not in "ims":
            raise c.error("flags", f"{ch!r} is not one of i, m, s")
        flags |= {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}[ch]
    try:
        pattern = re.compile(expr, flags)
    except re.error as e:
        raise c.error("regexp", f"'{expr}' is not a regular expression: {e}") from None
    group = c.get("group", (int, str))
    if isinstance(group, int) and not 0 <= group <= pattern.groups:
        raise c.error("group", f"{group} is not a group of '{expr}' (it has {pattern.groups})")
    if isinstance(group, str) and group not in pattern.groupindex:
        raise c.error("group", f"'{group}' is not a named group of '{expr}'")
    return pattern, group


def alias(f: Fields, *names: str) -> str | None:
    present = [n for n in names if n in f.node]
    if len(present) > 1:
        raise f.error(present[1], f"give either {present[0]} or {present[1]}, not both")
    return present[0] if present else None
