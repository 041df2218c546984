"""YAML files (suites, scenarios) read with their line numbers, so that every error
names the file, the line and the field: ``suite.yaml:12: endpoints[1].rate: must be
more than 0``.

Mappings load as :class:`Node` dicts and lists as :class:`NodeList`; both know the
line of each of their entries. :class:`Fields` walks one mapping, checks types and
rejects unknown keys with the same one-line errors; ``headers_of``, ``body_of`` and
``url_of`` read the fields that suites and scenarios share.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml

from pinkclinic.errors import UsageError
from pinkclinic.load.core.reqfile import parse_header
from pinkclinic.load.core.urls import url_problem


class Node(dict):
    line = 0

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[Any, int] = {}


class NodeList(list):
    line = 0

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[int] = []


class _Loader(yaml.SafeLoader):
    pass


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Node:
    loader.flatten_mapping(node)
    out = Node()
    out.line = node.start_mark.line + 1
    for knode, vnode in node.value:
        key = loader.construct_object(knode, deep=True)
        if key in out:  # YAML would keep the last one silently
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {out.lines[key]})",
                knode.start_mark)
        out[key] = loader.construct_object(vnode, deep=True)
        out.lines[key] = knode.start_mark.line + 1
    return out


def _sequence(loader: _Loader, node: yaml.SequenceNode) -> NodeList:
    out = NodeList()
    out.line = node.start_mark.line + 1
    for item in node.value:
        out.append(loader.construct_object(item, deep=True))
        out.lines.append(item.start_mark.line + 1)
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _sequence)


class FileError(UsageError):
    def __init__(self, path: str, line: int | None, field: str | None, message: str):
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {field + ': ' if field else ''}{message}")


def load_yaml(path: str | Path, what: str) -> Node:
    """Read ``path`` as YAML; the top level must be a mapping."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot read {what} file {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a text file (expected YAML)") from None
    try:
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "invalid YAML"
        raise FileError(str(path), mark.line + 1 if mark else None, None,
                        f"invalid YAML: {problem}") from None
    except yaml.YAMLError as e:
        raise FileError(str(path), None, None, f"invalid YAML: {e}") from None
    if not isinstance(data, Node):
        raise FileError(str(path), 1, None, f"expected a mapping at the top of the {what} file")
    return data


class Fields:
    """Typed access to one mapping of a file; errors name the file, line and field."""

    def __init__(self, path: str, node: Any, name: str, parent_line: int = 0):
        self.path, self.name = path, name
        if not isinstance(node, Node):
            raise FileError(path, getattr(node, "line", 0) or parent_line, name,
                            f"expected a mapping, got {type_name(node)}")
        self.node = node

    def field(self, key: str) -> str:
        return f"{self.name}.{key}" if self.name else key

    def line(self, key: str | None = None) -> int:
        return self.node.lines.get(key, self.node.line) if key is not None else self.node.line

    def error(self, key: str | None, message: str) -> FileError:
        return FileError(self.path, self.line(key), self.field(key) if key else self.name or None,
                         message)

    def only(self, *allowed: str) -> None:
        for key in self.node:
            if key not in allowed:
                raise self.error(key, f"unknown field (expected one of: {', '.join(allowed)})")

    def get(self, key: str, kind: type | tuple, default: Any = None, *, required: bool = False):
        if key not in self.node or self.node[key] is None:
            if required:
                raise FileError(self.path, self.node.line, self.field(key), "is required")
            return default
        value = self.node[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) and bool not in kinds:
            raise self.error(key, f"expected {kind_name(kinds)}, got a boolean")
        if not isinstance(value, kinds):
            raise self.error(key, f"expected {kind_name(kinds)}, got {type_name(value)}")
        return value

    def number(self, key: str, default=None, *, minimum: float = 0, open_min: bool = True,
               integer: bool = False, maximum: float | None = None):
        value = self.get(key, int if integer else (int, float), default)
        if value is None or value is default:
            return value
        if not math.isfinite(value):
            raise self.error(key, f"must be a finite number, got {value}")
        if value < minimum or (open_min and value == minimum):
            raise self.error(key, f"must be {'more than' if open_min else 'at least'} {minimum:g}")
        if maximum is not None and value > maximum:
            raise self.error(key, f"must be at most {maximum:,g}")
        return value

    def sub(self, key: str) -> Fields:
        return Fields(self.path, self.node[key], self.field(key), self.line(key))


def type_name(v: Any) -> str:
    if v is None:
        return "nothing"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            Node: "a mapping", NodeList: "a list"}.get(type(v), type(v).__name__)


def kind_name(kinds: tuple) -> str:
    names = {str: "a string", int: "a whole number", float: "a number", bool: "true or false",
             Node: "a mapping", NodeList: "a list", dict: "a mapping", list: "a list"}
    out = [names.get(k, k.__name__) for k in kinds]
    if "a whole number" in out and "a number" in out:
        out.remove("a whole number")
    return " or ".join(dict.fromkeys(out))


# -- fields that suites and scenarios share ---------------------------------------------
def headers_of(f: Fields, key: str = "headers") -> list[tuple[str, str]]:
    value = f.get(key, (dict, list), {})
    if isinstance(value, dict):
        return [(str(k), "" if v is None else str(v)) for k, v in value.items()]
    out = []
    for item in value:
        try:
            out.append(parse_header(str(item)))
        except Exception as e:
            raise f.error(key, str(e)) from None
    return out


def body_of(f: Fields, key: str = "body") -> bytes | None:
    if key not in f.node or f.node[key] is None:
        return None
    value = f.node[key]
    if isinstance(value, (dict, list)):
        return json.dumps(value).encode()
    if isinstance(value, bool):
        raise f.error(key, "expected text or a mapping, got a boolean")
    return str(value).encode()


def url_of(f: Fields, key: str, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
    """A server URL field, checked when the file is read (``host:port`` means http://)."""
    url = f.get(key, str)
    if url is None:
        return None
    if "://" not in url:
        url = "http://" + url
    problem = url_problem(url, schemes)
    if problem:
        raise f.error(key, problem)
    return url
