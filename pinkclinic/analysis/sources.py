"""Source lines around the frames a report may name, read when the recording is made.

The report shows each culprit with its source; reading it at record time means
the report shows the code that actually ran, even if the file changes later.
"""

from __future__ import annotations

import linecache
import os
from collections.abc import Iterable, Sequence

from pinkclinic.analysis.culprits import culprit_frame
from pinkclinic.jsonio import read_json, write_json
from pinkclinic.profile.heat import SCHEMA_VERSION, SOURCES_FILE  # the one definition of the file
from pinkclinic.recording import Recording

CONTEXT = 5           # lines shown on each side of the culprit line
MAX_FRAMES = 200      # distinct frames captured
MAX_LINE = 300        # characters kept per line


def capture(rec: Recording, stacks: Iterable[Sequence[Sequence]]) -> int:
    """Write ``sources.json`` for the culprit frame of each stack; returns frames captured."""
    wanted: dict[str, set[int]] = {}
    for stack in stacks:
        frame = culprit_frame(stack)
        if not frame:
            continue
        path, line = str(frame[1]), int(frame[2] or 0)
        if line <= 0:
            continue
        lines = wanted.setdefault(path, set())
        if len(lines) < MAX_FRAMES:
            lines.add(line)
        if sum(len(v) for v in wanted.values()) >= MAX_FRAMES:
            break
    files = {}
    for path, lines in wanted.items():
        if not os.path.isfile(path):
            continue
        keep = {}
        for line in lines:
            for n in range(max(1, line - CONTEXT), line + CONTEXT + 1):
                text = linecache.getline(path, n)
                if text:
                    keep[str(n)] = text.rstrip("\n")[:MAX_LINE]
        if keep:
            files[path] = keep
    write_json(rec.file(SOURCES_FILE), {"schema_version": SCHEMA_VERSION, "files": files})
    return sum(len(v) for v in wanted.values())


def snippet(rec: Recording, path: str, line: int) -> list[tuple[int, str, bool]]:
    """[(line number, text, is the culprit line)] from ``sources.json`` (empty if not captured)."""
    src = rec.file(SOURCES_FILE)
    if not src.exists():
        return []
    lines = read_json(src).get("files", {}).get(path, {})
    out = []
    for n in range(max(1, line - CONTEXT), line + CONTEXT + 1):
        if str(n) in lines:
            out.append((n, lines[str(n)], n == line))
    return out
