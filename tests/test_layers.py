"""The layer rule of docs/developing.md, read from the code's imports (every import,
including those inside functions): each part of the package imports only the parts
below it, the load library knows nothing of the CLI or the terminal, and no two modules
import each other, directly or round a loop."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pinkclinic"

# Lowest first. A part may import its own modules and any part of a lower rank; the
# foundation modules (rank 0) may also import each other, but never round a loop.
RANKS = {
    "pinkclinic": 0, "exits": 0, "errors": 0, "jsonio": 0, "units": 0, "resources": 0,
    "procs": 0, "redact": 0, "interrupt": 0, "window": 0, "recording": 0, "probe": 0,
    "load": 1, "ui": 1,
    "loadargs": 2, "target": 2, "profile": 2,
    "collect": 3, "analysis": 3,
    "session": 4, "workflows": 4, "heap": 4, "diff": 4,
    "render": 5,
    "commands": 6,
    "cli": 7,
    "__main__": 8,
}

# Third-party libraries that belong to one edge of the program.
ONLY_IN = {
    "click": {"cli", "loadargs"},
    "rich": {"ui", "session", "commands"},
    "jinja2": {"render"},
    "memray": {"heap"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if rel[1:2] == ("bootstrap",):
            continue  # injected into the target: the standard library only (own test)
        found[".".join(rel[:-1] if rel[-1] == "__init__" else rel)] = path
    return found


@functools.cache  # each module is parsed once, at collection: ~200 files, ~1.5 s a pass
def _imports(module: str, path: Path) -> frozenset[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module
            names.add(stem)
            names.update(f"{stem}.{alias.name}" for alias in node.names)
    return frozenset(names)


MODULES = _modules()
GRAPH = {
    module: {name for name in _imports(module, path) if name in MODULES and name != module}
    for module, path in MODULES.items()
}
THIRD_PARTY = {
    module: {name.split(".")[0] for name in _imports(module, path)}
    for module, path in MODULES.items()
}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def test_every_part_has_a_rank():
    assert {_part(module) for module in MODULES} <= set(RANKS)


def _above_or_beside(target: str, part: str) -> bool:
    if RANKS[part] == 0:
        return RANKS[target] > 0
    return RANKS[target] >= RANKS[part]


@pytest.mark.parametrize("part", sorted(RANKS))
def test_parts_import_downward_only(part):
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items() if _part(module) == part
        for target in targets
        if _part(target) != part and _above_or_beside(_part(target), part)
    )
    assert not upward


@pytest.mark.parametrize("library", sorted(ONLY_IN))
def test_libraries_stay_at_their_edge(library):
    stray = sorted(m for m, names in THIRD_PARTY.items()
                   if library in names and _part(m) not in ONLY_IN[library])
    assert not stray


def test_load_library_knows_nothing_above_it():
    """The load generator is a library: no CLI, no terminal, no target, no collectors."""
    above = {"click", "rich"} | {f"pinkclinic.{p}" for p, r in RANKS.items() if r > 1}
    leaks = sorted(
        f"{module} imports {name}"
        for module, path in MODULES.items() if _part(module) == "load"
        for name in _imports(module, path)
        if name.split(".")[0] in above or ".".join(name.split(".")[:2]) in above
    )
    assert not leaks


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _without_package_reexports(graph):
    """A package's __init__ importing its own modules is how it re-exports them, not a
    loop; a module importing its own package's __init__ back would be."""
    return {
        module: {t for t in targets if not (t.startswith(module + ".") and MODULES[module].name == "__init__.py")}
        for module, targets in graph.items()
    }


def test_no_import_cycles():
    assert _cycles(_without_package_reexports(GRAPH)) == []


def test_the_checker_sees_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
