"""Turn weighted stacks into ranked culprits: the user's own functions first.

A culprit is the innermost *app* frame of a stack (the user's code, not the
framework, stdlib or site-packages); only when a stack holds no app frame at all
does its innermost frame stand in, unless the stack is one of pinkclinic's probe
threads (a collection its own allocations happened to trigger): that is no culprit.
Frames are keyed by (function, file); the line reported is the one seen with the most
weight.

Two kinds of app frame are only where the server was started, not what it was
doing: frames at or outside the event loop's entry (``uvicorn.run(app)`` at the
bottom of the launch script, ``asyncio.run(main())``), and a script's ``<module>``
frame below other frames (a launcher script such as ``bin/gunicorn``). They are
passed over.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

from pinkclinic.analysis.finding import Culprit
from pinkclinic.probe import is_probe_file

Frame = Sequence  # [function, file, line]

_NOT_APP = re.compile(
    r"(site-packages|dist-packages|/lib/python\d+(\.\d+)?t?/|/lib/pypy|"
    r"^<frozen |^<string>|^<built-in)")


def is_app_file(path: str) -> bool:
    return bool(path) and not _NOT_APP.search(path.replace("\\", "/")) and not is_probe_file(path)


_LOOP_ENTRY = re.compile(
    r"(asyncio/base_events\.py|asyncio/runners\.py|uvloop/__init__\.py|asyncio/events\.py)$")
_LOOP_FUNCS = re.compile(r"(^|\.)(run_forever|_run_once|run_until_complete|run|_run)$")


def _is_loop_entry(frame: Frame) -> bool:
    return bool(_LOOP_ENTRY.search(str(frame[1]).replace("\\", "/"))
                and _LOOP_FUNCS.search(str(frame[0])))


def culprit_frame(stack: Sequence[Frame]) -> Frame | None:
    """Innermost app frame of ``stack`` (innermost last) inside the event loop's entry,
    else its innermost frame."""
    if not stack:
        return None
    start = 0
    for i in range(len(stack) - 1, -1, -1):
        if _is_loop_entry(stack[i]):
            start = i + 1
            break
    last = len(stack) - 1
    for i in range(last, start - 1, -1):
        frame = stack[i]
        if is_app_file(str(frame[1])) and (str(frame[0]) != "<module>" or i == last):
            return frame
    if any(is_probe_file(str(f[1])) for f in stack):
        return None
    return stack[-1]


def rank(weighted: Iterable[tuple[Sequence[Frame], float]], *, top: int = 5,
         min_share: float = 0.02) -> list[Culprit]:
    """Rank culprit frames by total weight; ``share`` is of the weight that had a stack."""
    weight: dict[tuple[str, str], float] = defaultdict(float)
    lines: dict[tuple[str, str], dict[int, float]] = defaultdict(lambda: defaultdict(float))
    total = 0.0
    for stack, w in weighted:
        frame = culprit_frame(stack)
        if frame is None or w <= 0:
            continue
        key = (str(frame[0]), str(frame[1]))
        weight[key] += w
        lines[key][int(frame[2] or 0)] += w
        total += w
    if total <= 0:
        return []
    ranked = sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))
    out = []
    for (func, file), w in ranked[:top]:
        share = w / total
        if out and share < min_share:
            break
        line = max(lines[(func, file)].items(), key=lambda kv: (kv[1], -kv[0]))[0]
        out.append(Culprit(function=func, file=file, line=line, share=share))
    return out
