"""pinkclinic's bootstrap, found first on the target's PYTHONPATH.

1. Run the ``sitecustomize`` this file shadows (the next one on ``sys.path``), exactly
   as ``site`` would have: its names are visible as ``sitecustomize.<name>`` and an
   exception it raises still reaches ``site``, which prints its usual one-line message.
2. If ``PINKCLINIC_PROBE`` is set, start the in-process probe (``pinkclinic_probe``).

This file must parse and do no harm on any Python the target tree may run (even
Python 2: child processes inherit PYTHONPATH), so it uses only old syntax. The probe
itself starts on CPython 3.8+ only. Nothing here ever raises into the target.
"""
import os
import sys

_PROBE_PACKAGE = "pinkclinic_probe"


def _is_bootstrap_dir(entry):
    """True for any pinkclinic bootstrap folder (ours or another copy): never chain to one."""
    try:
        return (os.path.isfile(os.path.join(entry, "sitecustomize.py")) and
                os.path.isfile(os.path.join(entry, _PROBE_PACKAGE, "__init__.py")))
    except Exception:
        return False


def _chain():
    """Run the next ``sitecustomize`` on sys.path, skipping pinkclinic bootstrap folders."""
    path = [p for p in sys.path if not _is_bootstrap_dir(p or os.curdir)]
    try:
        import importlib.machinery
        import importlib.util
    except ImportError:  # Python 2
        return _chain_py2(path)
    try:
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", path)
        module = importlib.util.module_from_spec(spec) if spec and spec.loader else None
    except Exception:
        return None
    if module is None:
        return None
    try:
        spec.loader.exec_module(module)
    finally:
        _adopt(module)


def _chain_py2(path):
    import imp
    try:
        found = imp.find_module("sitecustomize", path)
    except ImportError:
        return None
    ours = sys.modules.get("sitecustomize")
    try:
        _adopt(imp.load_module("sitecustomize", *found))
    finally:
        if found[0] is not None:
            found[0].close()
        if ours is not None:
            sys.modules["sitecustomize"] = ours


def _adopt(module):
    # Its names stay visible as sitecustomize.<name>, even those set before an error.
    ns = globals()
    for name, value in vars(module).items():
        if name not in ns:
            ns[name] = value


def _start_probe():
    if not os.environ.get("PINKCLINIC_PROBE") or sys.version_info < (3, 8):
        return
    try:
        import pinkclinic_probe
        pinkclinic_probe.start()
    except Exception:
        if os.environ.get("PINKCLINIC_PROBE_DEBUG"):
            import traceback
            traceback.print_exc()


try:
    _chain()
finally:
    _start_probe()
