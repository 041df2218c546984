"""Stacks as the recording format wants them: ``[[func, file, line], ...]``, innermost last.

A stack is first captured as a cheap key (a tuple of ``(code, line)``, innermost first)
and rendered later, so hot paths (GC callbacks) pay only for walking the frames.
"""
import sys

MAX_DEPTH = 128


def frame_key(frame, limit=MAX_DEPTH):
    out = []
    while frame is not None and len(out) < limit:
        out.append((frame.f_code, frame.f_lineno or 0))
        frame = frame.f_back
    return tuple(out)


def _func(code):
    return getattr(code, "co_qualname", None) or code.co_name


def render(key):
    return [[_func(code), code.co_filename, line] for code, line in reversed(key)]


def thread_stack(ident):
    """The current stack of another thread (by ``threading.get_ident()``), or ``[]``."""
    frame = sys._current_frames().get(ident)
    try:
        return render(frame_key(frame))
    finally:
        del frame


def caller_key(depth):
    """The key of the stack ``depth`` frames above the caller of this function."""
    try:
        return frame_key(sys._getframe(depth + 1))
    except ValueError:
        return ()
