"""Installed apps' code is the user's code: which packages hold the app that was served.

An app deployed with ``pip install .`` lives in site-packages, and so do third-party
apps such as httpbin, datasette or Jupyter Server; a path rule alone calls their code a
dependency, and a diagnosis then blames the framework. The package that holds the
WSGI/ASGI app or the request handlers is the user's code. It is read from the server's
command lines (the recording's command, and each process's as its probe saw it):

* an app reference given to a server runner (``gunicorn -w 2 httpbin:app``,
  ``uvicorn shop.main:app``, ``granian --interface asgi shop:app``, ``flask --app shop
  run``, ``celery -A shop worker``) -> ``httpbin``, ``shop``;
* a module run with ``python -m`` that is not a server runner (``python -m shop``);
* a console script that is not a server runner (``datasette serve``, ``jupyter server``
  -> ``jupyter_server``) -> the packages of its distribution.

:func:`app_code` makes a set of such top-level names current while a recording is
analysed; :func:`is_app_module_path` and :class:`~pinkclinic.profile.areas.AreaClassifier`
then count their files as the user's code.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextvars import ContextVar

# Programs that serve someone else's app: their own package is never the app.
RUNNERS = frozenset({
    "gunicorn", "uvicorn", "hypercorn", "granian", "daphne", "waitress", "waitress-serve",
    "uwsgi", "flask", "fastapi", "celery", "twistd", "gevent", "bjoern", "meinheld",
    "pinkclinic", "py-spy", "memray", "coverage", "pytest", "ddtrace-run", "opentelemetry-instrument",
})
_APP_REF = re.compile(r"^(?P<mod>[A-Za-z_][\w.]*):(?P<attr>[A-Za-z_][\w.]*)(\(.*\))?$", re.S)
_APP_FLAGS = ("--app", "-A", "--factory-app", "--wsgi-app", "--asgi-app")
# options whose value is an address, never an app (``-b unix:gunicorn.sock``)
_ADDRESS_FLAGS = ("-b", "--bind", "--uds", "--host", "--listen", "--fd")
_SITE_TOP = re.compile(r"[\\/](?:site|dist)-packages[\\/]([^\\/]+)")
_CURRENT: ContextVar[frozenset[str]] = ContextVar("pinkclinic_app_modules", default=frozenset())


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def _program(word: str) -> str:
    return os.path.basename(word).lower()


def app_modules(command_lines: Iterable[Sequence[str]],
                script_packages: dict[str, Sequence[str]] | None = None) -> frozenset[str]:
    """Top-level names of the packages that hold the served app. ``script_packages``
    maps a console script's name to its distribution's top-level packages (default:
    the name itself, ``-`` as ``_``)."""
    out: set[str] = set()
    scripts = _console_scripts() if script_packages is None else script_packages
    for argv in command_lines:
        out |= _from_argv([str(a) for a in argv], scripts)
    return frozenset(t for t in out if t and _program(t) not in RUNNERS)


@functools.lru_cache(maxsize=1)
def _console_scripts() -> dict[str, list[str]]:
    """Console script -> the top-level package of its entry point, for this interpreter
    (the target may run another: then the script's own name stands in)."""
    from importlib import metadata

    try:
        eps = metadata.entry_points(group="console_scripts")
    except Exception:  # broken metadata somewhere must not break a report
        return {}
    return {ep.name.lower(): [_top(ep.value.split(":", 1)[0].strip())] for ep in eps}


def _from_argv(argv: list[str], scripts: dict[str, Sequence[str]]) -> set[str]:
    if not argv:
        return set()
    prog, rest = _program(argv[0]), argv[1:]
    if re.match(r"^(python|pypy)[\d.]*t?$", prog):
        i = 0
        while i < len(rest):
            a = rest[i]
            if a == "-c":
                return set()
            if a in ("-X", "-W"):  # options that take a value
                i += 2
                continue
            if a == "-m" and i + 1 < len(rest):
                mod = rest[i + 1]
                if _top(mod).replace("_", "-") in RUNNERS or _top(mod) in RUNNERS:
                    return _app_refs(rest[i + 2:])
                return {_top(mod)}
            if not a.startswith("-"):  # a script: its own folder is app code already
                return _app_refs(rest[i + 1:])
            i += 1
        return set()
    if prog in RUNNERS:
        return _app_refs(rest)
    if prog == "jupyter" and rest and not rest[0].startswith("-"):
        return {f"jupyter_{rest[0].replace('-', '_')}"}
    return set(scripts.get(prog) or [prog.replace("-", "_")]) | _app_refs(rest)


def _app_refs(args: list[str]) -> set[str]:
    out = set()
    for i, a in enumerate(args):
        m = _APP_REF.match(a)
        address = i > 0 and args[i - 1] in _ADDRESS_FLAGS
        if m and not address and not a.startswith(("-", "/")) and "://" not in a:
            out.add(_top(m.group("mod")))
            continue
        for flag in _APP_FLAGS:
            if a == flag and i + 1 < len(args):
                out.add(_top(args[i + 1].split(":", 1)[0]))
            elif a.startswith(flag + "="):
                out.add(_top(a.split("=", 1)[1].split(":", 1)[0]))
    return {t for t in out if t.isidentifier()}


@contextlib.contextmanager
def app_code(modules: Iterable[str]) -> Iterator[frozenset[str]]:
    """Count ``modules`` (top-level names) as the user's code inside the block."""
    current = frozenset(modules) | _CURRENT.get()
    token = _CURRENT.set(current)
    try:
        yield current
    finally:
        _CURRENT.reset(token)


def recording_app_modules(rec) -> frozenset[str]:
    """:func:`app_modules` of a recording: its command, and every process's own command
    line (the probe's ``argv``, the sampler's ``spawn`` events)."""
    from pinkclinic.probe import probe_headers

    lines = [rec.manifest.get("command") or []]
    lines += [h.get("argv") or [] for h in probe_headers(rec.path).values()]
    lines += [r.get("cmdline") or [] for r in rec.read_stream("processes") if r.get("event") == "spawn"]
    return app_modules(lines)


def current_app_modules() -> frozenset[str]:
    return _CURRENT.get()


def installed_app_top(path: str) -> str | None:
    """The top-level name of a site-packages file when it belongs to the current app."""
    tops = _CURRENT.get()
    if not tops:
        return None
    m = _SITE_TOP.search(path)
    if m is None:
        return None
    top = m.group(1)
    top = top[:-3] if top.endswith(".py") else top
    return top if top in tops else None


def is_app_module_path(path: str) -> bool:
    return installed_app_top(path) is not None
