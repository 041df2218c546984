"""Samples per source line of the app's functions, and the source files they name.

py-spy gives each frame its line: the running line for the leaf, the calling line for
the others. :func:`line_heat` sums a profile's busy samples per (app frame, line):
``self`` where the line was running, ``total`` where it was on the stack (once per
sample, however deep the recursion).

:func:`save_sources` writes the files of the hottest app frames into the recording's
``sources.json`` at the end of a ``flame`` run (the same shape as doctor's: path ->
{line number: text}), bounded, so the report shows the code that ran even if it
changes later. :func:`read_sources` reads it back.
"""

from __future__ import annotations

import os
import tokenize
from collections.abc import Iterable

from pinkclinic.jsonio import read_json, write_json
from pinkclinic.profile.areas import APP
from pinkclinic.profile.model import Frame, Profile
from pinkclinic.recording import Recording

SOURCES_FILE = "sources.json"
SCHEMA_VERSION = 1
MAX_FILES = 30            # files saved, hottest first
MAX_FILE_LINES = 5000     # a longer file keeps only WINDOW lines around its sampled lines
WINDOW = 40
MAX_LINE = 300            # characters kept per line
MAX_CHARS = 2_000_000     # all files together


def line_heat(raw: list[tuple[str, str, int]], frames: list[Frame], raw_to_merged: list[int],
              rows: Iterable[tuple[tuple[int, ...], float]]) -> dict[int, dict[int, list]]:
    """``{merged frame: {line: [self, total]}}`` for the app frames of ``rows``:
    ``(raw frame ids, weight)`` per busy stack; ``raw_to_merged`` maps raw to merged ids."""
    app = {i for i, f in enumerate(frames) if f.area == APP}
    cells: list[tuple[int, int]] = []  # (merged frame, line) per cell
    cell_ids: dict[tuple[int, int], int] = {}
    rcell: list[int | None] = [None] * len(raw)  # raw frame -> its cell (None: not app)
    for r, (_, _, line) in enumerate(raw):
        m = raw_to_merged[r]
        if m in app and line > 0:
            rcell[r] = cell_ids.setdefault((m, line), len(cell_ids))
            if len(cells) < len(cell_ids):
                cells.append((m, line))
    selfw = [0] * len(cells)
    total = [0] * len(cells)
    get = rcell.__getitem__
    for rframes, w in rows:
        ids = set(map(get, rframes))  # once per sample, however deep the recursion
        ids.discard(None)
        if not ids:
            continue
        for c in ids:
            total[c] += w
        leaf = rcell[rframes[-1]]
        if leaf is not None:
            selfw[leaf] += w
    out: dict[int, dict[int, list]] = {}
    for c, (m, line) in enumerate(cells):
        if total[c]:
            out.setdefault(m, {})[line] = [selfw[c], total[c]]
    return out


def file_weights(profile: Profile) -> dict[str, float]:
    """Busy weight per source file (the sum over its frames' lines of ``total``)."""
    out: dict[str, float] = {}
    for f, lines in (profile.heat or {}).items():
        file = profile.frames[f].file
        out[file] = out.get(file, 0) + max(t for _, t in lines.values())
    return out


def _read(path: str) -> list[str] | None:
    try:
        with tokenize.open(path) as fh:  # honours a coding: declaration
            return fh.read().splitlines()
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None


def save_sources(rec: Recording, profile: Profile) -> int:
    """Write ``sources.json`` with the files of the hottest app frames; returns files saved."""
    weights = file_weights(profile)
    sampled: dict[str, set[int]] = {}
    for f, lines in (profile.heat or {}).items():
        sampled.setdefault(profile.frames[f].file, set()).update(lines)
    files: dict[str, dict[str, str]] = {}
    budget = MAX_CHARS
    for path in sorted(weights, key=lambda p: (-weights[p], p))[:MAX_FILES]:
        if not os.path.isfile(path):
            continue
        text = _read(path)
        if text is None:
            continue
        keep = range(1, len(text) + 1)
        if len(text) > MAX_FILE_LINES:
            keep = sorted({n for line in sampled[path]
                           for n in range(max(1, line - WINDOW), line + WINDOW + 1)
                           if n <= len(text)})
        lines = {str(n): text[n - 1][:MAX_LINE] for n in keep}
        size = sum(map(len, lines.values())) + 8 * len(lines)
        if size > budget:
            continue
        budget -= size
        files[path] = lines
    write_json(rec.file(SOURCES_FILE), {"schema_version": SCHEMA_VERSION, "files": files})
    return len(files)


def read_sources(rec: Recording) -> dict[str, dict[str, str]]:
    """path -> {line number: text} from ``sources.json`` (empty when not saved or unreadable)."""
    path = rec.file(SOURCES_FILE)
    try:
        files = read_json(path).get("files") if path.exists() else None
    except (OSError, ValueError):
        return {}
    return files if isinstance(files, dict) else {}
