"""Which processes of a tree are Python interpreters, and which version they run.

The launched PID is often not Python: a shell (``bash -c``), a pyenv shim (a bash
script that ``exec``s pyenv, which ``exec``s python: same PID, new image), or
``uv run`` (a Rust binary whose child is Python). py-spy fails on those with
"Failed to find python version", so collectors look for the topmost Python process.
"""

from __future__ import annotations

import os
import re
import subprocess

from pinkclinic import procs

_EXE_RE = re.compile(r"^(python|pypy)[0-9.]*[dmu]*$")
_LIB_RE = re.compile(rb"/libpython([0-9]+\.[0-9]+)")
_VERSION_CODE = "import sys; print('%d.%d.%d' % sys.version_info[:3])"


def exe_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def is_python(pid: int) -> bool:
    """True if ``pid`` runs a Python interpreter: its executable is ``python*`` or it
    maps a ``libpython`` (embedded interpreters such as uWSGI)."""
    exe = exe_of(pid)
    if exe is None:
        return False
    name = os.path.basename(exe.removesuffix(" (deleted)"))
    if _EXE_RE.match(name):
        return True
    try:
        with open(f"/proc/{pid}/maps", "rb") as f:
            return _LIB_RE.search(f.read()) is not None
    except OSError:
        return False


def topmost_python(root: int) -> int | None:
    """The first Python process in a breadth-first walk of ``root``'s tree, or ``None``."""
    todo = [root]
    seen: set[int] = set()
    while todo:
        pid = todo.pop(0)
        if pid in seen:
            continue
        seen.add(pid)
        if procs.is_alive(pid) and is_python(pid):
            return pid
        todo.extend(procs.children_of(pid))
    return None


def python_version(pid: int) -> str | None:
    """``"3.11.7"`` for a Python process: asks its executable (isolated, no site), or
    falls back to the ``libpython`` it maps (``"3.11"``). ``None`` if unknown."""
    exe = exe_of(pid)
    if exe and not exe.endswith(" (deleted)") and _EXE_RE.match(os.path.basename(exe)):
        try:
            out = subprocess.run([exe, "-I", "-S", "-c", _VERSION_CODE], capture_output=True,
                                 text=True, timeout=5, check=False)
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        with open(f"/proc/{pid}/maps", "rb") as f:
            m = _LIB_RE.search(f.read())
    except OSError:
        return None
    return m.group(1).decode() if m else None
