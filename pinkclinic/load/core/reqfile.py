"""``--requests FILE``: a YAML or JSON list of {method, path, headers, body}, and how the
command line's ``-m``, ``-H``, ``-b`` and ``-i`` apply to it.

Each connection runs the list from its first step and goes on across reconnects
(the engine keeps one position per connection, as autocannon's client does).
``-m``, ``-H``, ``-b``/``-i`` are defaults for every step: a step's own method and
body win, and so does its own value of a header (names compared case-insensitively).
"""

from __future__ import annotations

import json
from pathlib import Path

from pinkclinic.errors import UsageError
from pinkclinic.load.core.spec import RequestTemplate

KEYS = {"method", "path", "headers", "body"}


def parse_header(h: str) -> tuple[str, str]:
    name, sep, value = h.partition(":")
    if not sep or not name.strip():
        raise UsageError(f"invalid header {h!r}: expected 'Name: value'")
    return name.strip(), value.strip()


def _load(path: str):
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"{path}: not UTF-8 text (byte {e.start} is {raw[e.start]:#04x})") from None
    try:
        if path.endswith(".json"):
            return json.loads(text)
        import yaml

        return yaml.safe_load(text)
    except Exception as e:  # yaml's and json's errors: one line
        first = (str(e).splitlines() or [type(e).__name__])[0]
        raise UsageError(f"{path}: not valid JSON or YAML: {first}") from None


def read_steps(path: str) -> list[dict]:
    """The file's steps as dicts with only the keys each step gave (values checked)."""
    data = _load(path)
    if isinstance(data, dict) and "requests" in data:
        data = data["requests"]
    if not isinstance(data, list) or not data:
        raise UsageError(f"{path}: expected a non-empty list of {{method, path, headers, body}}")
    steps = []
    for i, item in enumerate(data, 1):
        if not isinstance(item, dict):
            raise UsageError(f"{path}: request {i} is not a mapping")
        unknown = set(item) - KEYS
        if unknown:
            raise UsageError(f"{path}: request {i} has unknown keys: {', '.join(sorted(map(str, unknown)))}")
        step: dict = {"path": str(item.get("path", "/"))}
        if item.get("method") is not None:
            step["method"] = str(item["method"]).upper()
        headers = item.get("headers") or {}
        if isinstance(headers, dict):
            step["headers"] = [(str(k), str(v)) for k, v in headers.items()]
        elif isinstance(headers, list):
            step["headers"] = [parse_header(str(h)) for h in headers]
        else:
            raise UsageError(f"{path}: request {i}: headers must be a mapping or a list")
        if "body" in item and item["body"] is not None:
            body = item["body"]
            if isinstance(body, (bytes, bytearray)):
                raise UsageError(f"{path}: request {i}: a binary body (!!binary) is not supported; "
                                 "give text, or one binary body for every request with -i FILE")
            step["body"] = (body if isinstance(body, str) else json.dumps(body)).encode()
        steps.append(step)
    return steps


def templates(steps: list[dict], method: str, headers: list[tuple[str, str]],
              body: bytes | None) -> list[RequestTemplate]:
    """The steps with the command line's method, headers and body as defaults."""
    out = []
    for st in steps:
        own = st.get("headers", [])
        names = {k.lower() for k, _ in own}
        merged = [(k, v) for k, v in headers if k.lower() not in names] + own
        out.append(RequestTemplate(st.get("method", method), st["path"], merged,
                                   st.get("body", body)))
    return out
