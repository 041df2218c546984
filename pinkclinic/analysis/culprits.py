"""Turn weighted stacks into ranked culprits: the user's own functions first.

A culprit is the innermost *app* frame of a stack (the user's code, not the
framework, stdlib or site-packages); only when a stack holds no app frame at all
does its innermost frame stand in, unless the stack is one of pinkclinic's probe
threads (a collection its own allocations happened to trigger): that is no culprit.
Frames are keyed by (function, file); the line reported is the one seen with the most
weight. A comprehension's frame (``<listcomp>`` on CPython 3.11 and older) is named
after the function it sits in.

Two kinds of app frame are only where the server was started, not what it was
doing: frames at or outside the event loop's entry (``uvicorn.run(app)`` at the
bottom of the launch script, ``asyncio.run(main())``), and a script's ``<module>``
frame below other frames (a launcher script such as ``bin/gunicorn``). They are
passed over.

A stack that serves no request (:func:`serves_no_request`: a server's accept or control
loop, asyncio's ``Server.serve_forever``, gunicorn's arbiter) has no culprit either.

This is the one rule for every verdict's culprits (those :func:`rank` builds, and the
wait sites of :mod:`.waits`, whose ``via`` comes from :func:`via_of`).

A list of culprits is the user's code: the library call a user's culprit spent most of
its weight in is its ``via`` (``render_page`` via ``json.dumps``), and stacks
with no user frame (the transport's ``write`` after a handler returned, a
``WeakSet`` callback) count in every share's total but are listed only when the
user's code holds less than :data:`MIN_APP_SHARE` of the weight, so a list never
mixes a handler with the stdlib or framework frames it ran beside.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

from pinkclinic.analysis.finding import Culprit
from pinkclinic.probe import is_probe_file
from pinkclinic.profile.app_code import is_app_module_path
from pinkclinic.profile.idle import is_wait_frame

Frame = Sequence  # [function, file, line]

_NOT_APP = re.compile(
    r"(site-packages|dist-packages|/lib/python\d+(\.\d+)?t?/|/lib/pypy|"
    r"^<frozen |^<string>|^<built-in)")


def is_app_file(path: str) -> bool:
    """The user's code: outside the stdlib and site-packages (and not pinkclinic's probe),
    or in the installed package that holds the served app (:mod:`pinkclinic.profile.app_code`)."""
    if not path:
        return False
    p = path.replace("\\", "/")
    return is_app_module_path(p) or (not _NOT_APP.search(p) and not is_probe_file(path))


_LOOP_ENTRY = re.compile(
    r"(asyncio/base_events\.py|asyncio/runners\.py|uvloop/__init__\.py|asyncio/events\.py)$")
_LOOP_FUNCS = re.compile(r"(^|\.)(run_forever|_run_once|run_until_complete|run|_run)$")


def _is_loop_entry(frame: Frame) -> bool:
    return bool(_LOOP_ENTRY.search(str(frame[1]).replace("\\", "/"))
                and _LOOP_FUNCS.search(str(frame[0])))


def user_frames(stack: Sequence[Frame]) -> list[int]:
    """Indices (outermost first) of the frames of the user's code that were doing the
    work: app frames inside the event loop's entry, a ``<module>`` frame only innermost."""
    start = 0
    for i in range(len(stack) - 1, -1, -1):
        if _is_loop_entry(stack[i]):
            start = i + 1
            break
    last = len(stack) - 1
    return [i for i in range(start, len(stack))
            if is_app_file(str(stack[i][1])) and (str(stack[i][0]) != "<module>" or i == last)]


def culprit_frame(stack: Sequence[Frame]) -> Frame | None:
    """Innermost of the stack's :func:`user_frames` (innermost last), else its innermost
    frame; None for pinkclinic's probe threads and for a stack that serves no request."""
    if not stack or serves_no_request(stack):
        return None
    mine = user_frames(stack)
    if mine:
        return _outside_comprehensions(stack, mine[-1])
    if any(is_probe_file(str(f[1])) for f in stack):
        return None
    return stack[-1]


# A server's own loops: they accept connections or watch workers, and serve no request.
_CONTROL_FUNCS = re.compile(r"(^|\.)(serve_forever|_serve_forever|start_serving|wait_closed|"
                            r"Server\.main_loop|Server\.on_tick|_accept_connection2?)$")
_CONTROL_FILES = ("gunicorn/arbiter.py",)
_ACCEPT = re.compile(r"(^|\.)accept$")  # socket.accept: a hand-written accept loop
_ASYNCIO_FILE = re.compile(r"/lib/python[\d.]+t?/asyncio/")


def serves_no_request(stack: Sequence[Frame]) -> bool:
    """The stack (innermost last) ends, past its wait frames and asyncio's own (an
    ``asyncio.sleep`` awaited), in a server's accept or control loop (asyncio's
    ``Server.serve_forever``, socketserver's, uvicorn's ``main_loop``, gunicorn's
    arbiter, a thread blocked in ``socket.accept``): it waits for work, it does none."""
    for f in reversed(stack):
        func, file = str(f[0]), str(f[1]).replace("\\", "/")
        if (_CONTROL_FUNCS.search(func) or file.endswith(_CONTROL_FILES)
                or (file.endswith("/socket.py") and _ACCEPT.search(func))):
            return True
        if not (is_wait_frame(func, file) or _ASYNCIO_FILE.search(file)):
            return False
    return False


def library_call(stack: Sequence[Frame], frame: Frame) -> tuple[str, str, int] | None:
    """(function, file, line) of the library call ``frame`` (a user's culprit on ``stack``)
    made, if any: the frame it called, when that is neither the user's nor the probe's
    (a GC callback run inside the user's code is no library call)."""
    for i in range(len(stack) - 2, -1, -1):
        if stack[i] is frame:
            below = stack[i + 1]
            if is_app_file(str(below[1])) or is_probe_file(str(below[1])):
                return None
            return (str(below[0]), str(below[1]), int(below[2] or 0))
    return None


def _pick_via(calls: dict[tuple, float], weight: float) -> dict | None:
    """The call that held most of ``weight`` (at least half of it), as a culprit's ``via``."""
    via = max(calls.items(), key=lambda kv: (kv[1], kv[0]), default=None)
    if via is None or via[1] < weight / 2:
        return None
    return {"function": via[0][0], "file": via[0][1], "line": via[0][2]}


def via_of(weighted: Iterable[tuple[Sequence[Frame], float]]) -> dict | None:
    """The ``via`` of one user's culprit, from the stacks (with weights) it was found on:
    the library call it spent most of its weight in, or None."""
    calls: dict[tuple, float] = defaultdict(float)
    total = 0.0
    for stack, w in weighted:
        frame = culprit_frame(stack)
        if frame is None or w <= 0 or not is_app_file(str(frame[1])):
            continue
        total += w
        call = library_call(stack, frame)
        if call is not None:
            calls[call] += w
    return _pick_via(calls, total) if total > 0 else None


MIN_APP_SHARE = 0.1  # the user's code's weight below which library culprits are listed


_COMPREHENSION = re.compile(r"(?:^|\.)<(?:listcomp|dictcomp|setcomp|genexpr)>$")
_LOCALS = re.compile(r"(?:\.<locals>)?\.<(?:listcomp|dictcomp|setcomp|genexpr)>$")


def _outside_comprehensions(stack: Sequence[Frame], i: int) -> Frame:
    """``stack[i]``, or for a comprehension's own frame (CPython 3.11 and older give each
    its frame: ``build_graph.<locals>.<listcomp>``) the function it sits in: the frame
    that called it from the same file, else the name its qualified name gives."""
    frame = stack[i]
    while _COMPREHENSION.search(str(frame[0])):
        outer = stack[i - 1] if i > 0 else None
        if outer is not None and str(outer[1]) == str(frame[1]):
            i, frame = i - 1, outer
            continue
        name = _LOCALS.sub("", str(frame[0]))
        return [name, frame[1], frame[2]] if name and not name.startswith("<") else frame
    return frame


def rank(weighted: Iterable[tuple[Sequence[Frame], float]], *, top: int = 5,
         min_share: float = 0.02) -> list[Culprit]:
    """Rank culprit frames by total weight; ``share`` is of the weight that had a stack."""
    weight: dict[tuple[str, str], float] = defaultdict(float)
    lines: dict[tuple[str, str], dict[int, float]] = defaultdict(lambda: defaultdict(float))
    vias: dict[tuple[str, str], dict[tuple, float]] = defaultdict(lambda: defaultdict(float))
    total = app = 0.0
    for stack, w in weighted:
        frame = culprit_frame(stack)
        if frame is None or w <= 0:
            continue
        key = (str(frame[0]), str(frame[1]))
        weight[key] += w
        lines[key][int(frame[2] or 0)] += w
        total += w
        if is_app_file(key[1]):
            app += w
            call = library_call(stack, frame)
            if call is not None:
                vias[key][call] += w
    if total <= 0:
        return []
    user_only = app / total >= MIN_APP_SHARE
    ranked = sorted(((k, w) for k, w in weight.items() if not user_only or is_app_file(k[1])),
                    key=lambda kv: (-kv[1], kv[0]))
    out = []
    for (func, file), w in ranked[:top]:
        share = w / total
        if out and share < min_share:
            break
        line = max(lines[(func, file)].items(), key=lambda kv: (kv[1], -kv[0]))[0]
        c = Culprit(function=func, file=file, line=line, share=share)
        via = _pick_via(vias[(func, file)], w)  # most of its weight under one library call
        if via is not None:
            c.extra["via"] = via
        out.append(c)
    return out
