"""Which code a memray frame belongs to, and which frame names an allocation site.

memray stacks are innermost-first lists of ``(function, file, line)``. A frame is
one of these *areas*:

* ``app``      - the user's code: anything that is not one of the below;
* ``deps``     - installed packages (``site-packages``, ``dist-packages``);
* ``stdlib``   - the standard library, and ``<frozen ...>`` modules other than importlib;
* ``importlib``- the import machinery (not ``importlib.metadata`` or ``.resources``): an
  allocation under it was made at import time;
* ``profiler`` - memray, and pinkclinic itself (its in-process probe);
* ``launcher`` - ``memray run``'s own entry frames, outside every stack of the target;
* ``native``   - C/C++ frames, present only in ``--native`` captures.

The *site* of an allocation is its innermost app frame; when no app frame is on the
stack, the innermost deps frame, then the innermost frame. Stacks whose innermost
non-stdlib frame is the profiler's are the profiler's own allocations.
"""

from __future__ import annotations

import os
import re
import sysconfig
from functools import lru_cache

import pinkclinic
from pinkclinic.probe import is_probe_file

Frame = tuple[str, str, int]  # (function, file, line)

_PINKCLINIC_DIR = os.path.dirname(os.path.abspath(pinkclinic.__file__)) + os.sep
_STDLIB_DIRS = tuple(sorted({os.path.abspath(p) + os.sep for p in (
    sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("platstdlib")) if p}))
# Any interpreter's stdlib, not only the one running the analysis: the target may differ.
_STDLIB_RE = re.compile(r"/lib/(?:python\d\.\d+t?|pypy\d*\.?\d*)/(?!site-packages/|dist-packages/)")
_DEPS_RE = re.compile(r"[/\\](?:site|dist)-packages[/\\]")
_PROFILER_PKG_RE = re.compile(r"[/\\](?:site|dist)-packages[/\\](?:memray|pinkclinic)[/\\]")
# The import system itself, not importlib.metadata / importlib.resources, which a
# server may call at request time.
_IMPORT_MACHINERY_RE = re.compile(r"/importlib/(?:__init__|_bootstrap|_bootstrap_external|util"
                                  r"|machinery|_abc|abc)\.py$")
_LAUNCHER_RE = re.compile(r"[/\\]memray[/\\](?:commands[/\\]|__main__\.py$)")
_NATIVE_SUFFIXES = (".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".pyx", ".pxd", ".S", ".s")
_NATIVE_RE = re.compile(r"\.so(?:\.\d+)*$")


@lru_cache(maxsize=8192)
def area(file: str) -> str:
    """The area of a frame's file name (see the module docstring)."""
    if not file:
        return "native"
    if file.startswith("<"):
        if "importlib" in file:
            return "importlib"
        return "stdlib"
    norm = file.replace("\\", "/")
    if _LAUNCHER_RE.search(norm):
        return "launcher"
    if (_PROFILER_PKG_RE.search(norm) or is_probe_file(norm)
            or os.path.abspath(file).startswith(_PINKCLINIC_DIR)):
        return "profiler"
    if _IMPORT_MACHINERY_RE.search(norm) and _DEPS_RE.search(norm) is None:
        return "importlib"
    if _DEPS_RE.search(norm):
        return "deps"
    if norm.endswith(_NATIVE_SUFFIXES) or _NATIVE_RE.search(norm):
        return "native"
    if norm.startswith(_STDLIB_DIRS) or _STDLIB_RE.search(norm):
        return "stdlib"
    return "app"


def is_import_time(stack: list[Frame]) -> bool:
    """True when the allocation was made under the import machinery."""
    return any(area(f[1]) == "importlib" for f in stack)


def site_of(stack: list[Frame]) -> tuple[Frame | None, str]:
    """The frame that names an allocation site (innermost-first stack) and its area.

    Returns ``(None, "import")`` for import-time allocations, ``(None, "profiler")``
    for the profiler's own and ``(None, "empty")`` for an empty stack.
    """
    if not stack:
        return None, "empty"
    if is_import_time(stack):
        return None, "import"
    first_deps: Frame | None = None
    seen_code = False  # a non-stdlib, non-native frame was seen
    for frame in stack:
        a = area(frame[1])
        if a == "app":
            return frame, "app"
        if a == "profiler" and not seen_code:
            return None, "profiler"
        if a == "deps":
            seen_code = True
            if first_deps is None:
                first_deps = frame
    if first_deps is not None:
        return first_deps, "deps"
    return stack[0], area(stack[0][1])


def strip_launcher(stack: list[Frame]) -> list[Frame]:
    """Drop ``memray run``'s entry frames (and the runpy frames under them) from the
    outer end of an outermost-first stack: the probe's tracker has none of them."""
    if not stack or area(stack[0][1]) != "launcher":
        return stack
    i = 0
    while i < len(stack) and (area(stack[i][1]) == "launcher" or "runpy" in stack[i][1]):
        i += 1
    return stack[i:]
