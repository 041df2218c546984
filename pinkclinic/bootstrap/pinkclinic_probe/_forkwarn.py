"""Keep the probe's own threads from adding a warning to the target's ``fork()``.

CPython 3.12+ warns (DeprecationWarning, shown for code in ``__main__``) when a process
that has more than one OS thread forks. The probe's threads would make a single-threaded
target warn where it never did. Around each fork, if the probe's threads are the only
extra ones, an ``ignore`` filter for exactly that message goes first in the warning
filters; it takes itself out when it matches (3.12 warns before the after-fork hooks
run, 3.13 after them), and the child, and the next fork, drop any left over. A target
with threads of its own still gets its warning. It works on ``_warnings`` (always
loaded) so that the Python ``warnings`` module is not imported.
"""
import os
import sys


class _ForkMessage:
    """Stands in for a compiled regex in a warnings filter: ``match`` is all it needs."""

    def __init__(self, drop):
        self.drop = drop

    def match(self, text):
        if "is multi-threaded, use of fork" not in text:
            return False
        self.drop()
        return True


def install(probe):
    if sys.version_info < (3, 12) or not hasattr(os, "register_at_fork"):
        return
    import _warnings

    def drop():
        try:
            if item in _warnings.filters:
                _warnings.filters.remove(item)
                _warnings._filters_mutated()
        except Exception:
            pass

    item = ("ignore", _ForkMessage(drop), DeprecationWarning, None, 0)

    def before():
        drop()
        try:
            own = len(probe.own_idents())
            if own and len(os.listdir("/proc/self/task")) - own <= 1:
                _warnings.filters.insert(0, item)
                _warnings._filters_mutated()
        except Exception:
            pass

    os.register_at_fork(before=before, after_in_child=drop)
