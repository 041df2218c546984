"""Code areas: which part of the world a frame's code belongs to.

Every frame gets exactly one area:

* ``app`` - the user's code (anything not recognised below), and the installed package
  that holds the served app (:mod:`pinkclinic.profile.app_code`);
* ``deps:<distribution>`` - one area per installed distribution (``deps:starlette``,
  ``deps:uvicorn``), found from ``importlib.metadata.packages_distributions()`` of
  *this* interpreter, with a path fallback (``.../site-packages/<top>/...`` ->
  ``deps:<top>``) because the target may run another Python;
* ``stdlib`` - the standard library (this interpreter's stdlib folder, any
  ``lib/pythonX.Y/`` folder outside site-packages, ``<frozen ...>``);
* ``native`` - C frames: files that are not Python sources (py-spy ``--native``:
  ``.so`` libraries, ``.c``/``.h`` sources, addresses, no file) and pyinstrument's
  ``<built-in>`` functions;
* ``idle`` - waiting primitives (see :mod:`pinkclinic.profile.idle`).

A file that is neither Python nor native, such as a console script
(``.../bin/gunicorn``, whose ``<module>`` starts every stack of ``gunicorn ...``), is
the area of the distribution its name belongs to (``deps:gunicorn``), else ``app``.

pinkclinic's own injected probe is ``deps:pinkclinic``, so it can be hidden like
any dependency.
"""

from __future__ import annotations

import re
import sysconfig
from functools import lru_cache

from pinkclinic.probe import is_probe_file
from pinkclinic.profile.app_code import is_app_module_path

APP = "app"
STDLIB = "stdlib"
NATIVE = "native"
IDLE = "idle"
DEPS = "deps:"

_PY_SOURCE = (".py", ".pyw", ".pyx", ".pxd", ".pxi", ".pyi")
_SCRIPT_DIR = re.compile(r"[\\/](?:s?bin|Scripts)[\\/]([^\\/]+)$")
_SITE = re.compile(r"[\\/](?:site|dist)-packages[\\/]")
_STDLIB_DIR = re.compile(r"[\\/]lib[\\/](?:python|pypy)\d(?:\.\d+)?t?[\\/]", re.IGNORECASE)


def normalize_dist(name: str) -> str:
    """A distribution name as pip normalises it: ``PyYAML`` -> ``pyyaml``."""
    return re.sub(r"[-_.]+", "-", name).lower()


@lru_cache(maxsize=1)
def _top_level_map() -> dict[str, str]:
    """Top-level import name -> normalised distribution name, for this interpreter."""
    from importlib import metadata

    try:
        pd = metadata.packages_distributions()
    except Exception:  # broken metadata somewhere must not break a report
        return {}
    return {top: normalize_dist(dists[0]) for top, dists in pd.items() if dists}


@lru_cache(maxsize=1)
def _stdlib_prefixes() -> tuple[str, ...]:
    out = []
    for key in ("stdlib", "platstdlib"):
        p = sysconfig.get_paths().get(key)
        if p:
            out.append(p.rstrip("/\\") + "/")
    return tuple(dict.fromkeys(out))


class AreaClassifier:
    """Classify (function, file) pairs; results are cached per file."""

    def __init__(self, top_level: dict[str, str] | None = None):
        self._top = _top_level_map() if top_level is None else top_level
        self._cache: dict[str, str] = {}

    def __call__(self, function: str, file: str) -> str:
        area = self._cache.get(file)
        if area is None:
            area = self._cache[file] = self._classify_file(file)
        return area

    def dist_of_top(self, top: str) -> str:
        return self._top.get(top) or normalize_dist(top)

    def _classify_file(self, file: str) -> str:
        if not file:
            return NATIVE
        if file.startswith("<"):
            if file.startswith("<frozen"):
                return STDLIB
            return NATIVE if file == "<built-in>" else APP
        lower = file.lower()
        if not lower.endswith(_PY_SOURCE):
            return self._script_area(file) or NATIVE
        if is_probe_file(file):
            return DEPS + "pinkclinic"
        if is_app_module_path(file):  # the installed app's own package
            return APP
        m = _SITE.search(file)
        if m:
            rest = re.split(r"[\\/]", file[m.end():])
            top = rest[0]
            if len(rest) == 1:  # a single-module distribution: six.py
                top = top.rsplit(".", 1)[0]
            return DEPS + self.dist_of_top(top)
        if file.startswith(_stdlib_prefixes()) or _STDLIB_DIR.search(file):
            return STDLIB
        return APP

    def _script_area(self, file: str) -> str | None:
        """A Python script without an extension (``.../bin/gunicorn``, ``./manage``): a
        path with a folder whose last part has no dot and is not the interpreter. Anything
        else that is not a Python source (``libc.so.6``, ``ceval.c``, ``0x7f...``,
        ``??``, ``/usr/bin/python3.11``) is native."""
        base = re.split(r"[\\/]", file)[-1]
        if not re.search(r"[\\/]", file) or "." in base or not base or \
                base.lower().startswith(("python", "pypy")):
            return None
        m = _SCRIPT_DIR.search(file)
        top = m.group(1).replace("-", "_") if m else None
        return DEPS + self._top[top] if top in self._top else APP


def area_sort_key(area: str) -> tuple[int, str]:
    """app first, then deps alphabetically, stdlib, native, idle."""
    order = {APP: 0, STDLIB: 2, NATIVE: 3, IDLE: 4}
    return (order.get(area, 1), area)
