"""Run a callback right after a module finishes importing, without importing it.

The probe must not import asyncio eagerly (that would change the target's startup),
yet it must patch asyncio before uvloop takes its reference to
``asyncio._set_running_loop``. A finder at the front of ``sys.meta_path`` finds the
module's spec through the other finders and wraps that one loader instance's
``exec_module``; it then leaves ``sys.meta_path``.
"""
import sys

_waiting = {}  # module name -> [callback, ...]


class _Finder:
    def find_spec(self, fullname, path=None, target=None):
        callbacks = _waiting.get(fullname)
        if not callbacks:
            return None
        spec = None
        for finder in list(sys.meta_path):
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        loader = getattr(spec, "loader", None)
        if loader is None or isinstance(loader, type) or not hasattr(loader, "__dict__"):
            return spec
        original = loader.exec_module

        def exec_module(module):
            original(module)
            loader.__dict__.pop("exec_module", None)
            _fire(fullname, module)

        loader.exec_module = exec_module
        return spec


_finder = _Finder()


def _fire(name, module):
    for callback in _waiting.pop(name, ()):
        try:
            callback(module)
        except Exception:
            pass
    if not _waiting and _finder in sys.meta_path:
        try:
            sys.meta_path.remove(_finder)
        except ValueError:
            pass


def when_imported(name, callback):
    """Call ``callback(module)`` now if ``name`` is imported, else right after its import."""
    module = sys.modules.get(name)
    if module is not None:
        callback(module)
        return
    _waiting.setdefault(name, []).append(callback)
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)


def cancel(name, callback):
    """Forget a ``when_imported`` callback not yet called (an attached probe leaving);
    the finder leaves ``sys.meta_path`` when nothing is awaited any more."""
    callbacks = _waiting.get(name, [])
    if callback in callbacks:
        callbacks.remove(callback)
    if not callbacks:
        _waiting.pop(name, None)
    if not _waiting and _finder in sys.meta_path:
        try:
            sys.meta_path.remove(_finder)
        except ValueError:
            pass
