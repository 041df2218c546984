"""Every finding's culprits follow the one rule (issue 14 point 3, issue 15's verdicts),
checked against the stacks a real recording holds (the probe's stall, GC and wait
stacks, py-spy's samples of the load window):

* a culprit in the stdlib or site-packages (other than the served app's package) is the
  innermost frame of a recorded stack on which no user frame was at work: a library
  frame is never named for a stack that held the user's code;
* a list whose user culprits hold at least ``MIN_APP_SHARE`` names nothing else;
* a ``via`` sits only under a user's culprit, is a library frame (never the user's, never
  pinkclinic's), and that culprit called it on some recorded stack;
* no culprit or via is a task or thread that serves no request (an accept loop such as
  ``serve_forever`` or a thread in ``socket.accept``, uvicorn's main loop, gunicorn's
  arbiter), and each user's culprit was seen at work on a stack that does not end in one.

The stacks and names are read here, not taken from the analysers: this checks each
verdict's own wiring against what was recorded.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pinkclinic.analysis.culprits import MIN_APP_SHARE, is_app_file, user_frames
from pinkclinic.analysis.data import RecordingData
from pinkclinic.analysis.stacks import frames_of
from pinkclinic.probe import is_probe_file
from pinkclinic.profile.app_code import app_code
from pinkclinic.recording import Recording

# a server's own loops, which serve no request (named here, apart from the analysers')
_CONTROL = re.compile(r"(^|\.)(serve_forever|_serve_forever|main_loop|on_tick|"
                      r"_accept_connection2?|start_serving|wait_closed)$|^Arbiter\.")
_COMPREHENSION = re.compile(r"(\.<locals>)?\.<(listcomp|dictcomp|setcomp|genexpr)>.*$")


def _control(function: str, file: str) -> bool:
    file = file.replace("\\", "/")
    return (bool(_CONTROL.search(function)) or file.endswith("gunicorn/arbiter.py")
            or (file.endswith("/socket.py") and function.endswith("accept")))


def recorded_stacks(data: RecordingData) -> set[tuple]:
    """Every distinct stack in the recording, innermost last, as ((function, file), ...)."""
    def key(stack):
        return tuple((str(f[0]), str(f[1])) for f in stack)

    out = {key(r["stack"]) for kind in ("block", "gc") for r in data.probe.get(kind, [])
           if r.get("stack")}
    out |= {key(st) for r in data.probe.get("waits", []) for st, _n in r.get("stacks", [])}
    p = data.window_profile
    if p is not None:
        for frames in {frames for _t, frames, _w, _ in p.iter_stacks(idle=True)}:
            out.add(key(frames_of(p, frames)))
    out.discard(())
    return out


class StackIndex:
    """What the recorded stacks allow a culprit to be."""

    def __init__(self, stacks: set[tuple]):
        self.library_leaves: set[tuple] = set()  # innermost frames of stacks without user code
        self.at_work: set[tuple] = set()  # user frames seen on a stack not in a control loop
        self.calls: set[tuple] = set()  # (user frame, the library frame it called)
        for stack in stacks:
            mine = user_frames(stack)
            if not mine:
                self.library_leaves.add(stack[-1])
                continue
            for i in mine:
                func, file = stack[i]
                if not any(_control(*f) for f in stack[i:]):
                    self.at_work |= {(func, file), (_COMPREHENSION.sub("", func), file)}
                if i + 1 < len(stack):
                    self.calls.add(((func, file), stack[i + 1]))


def check_culprits(diagnosis: dict, rec: Path) -> None:
    """Assert the rule above for every culprit of every finding in ``diagnosis`` (the
    saturation's and the issues' are findings' too), against the recording ``rec``."""
    data = RecordingData(Recording.open(rec))
    with app_code(data.app_modules):
        index = StackIndex(recorded_stacks(data))
        lists = [(f["signal"], f.get("category"), f["culprits"]) for f in diagnosis["findings"]]
        lists += [("issue", i["category"], i["culprits"]) for i in diagnosis["issues"]]
        for signal, category, culprits in lists:
            user_share = sum(c["share"] for c in culprits if is_app_file(c["file"]))
            for c in culprits:
                _check_one(c, user_share, index, f"{signal}/{category}: {c}")


def _check_one(c: dict, user_share: float, index: StackIndex, where: str) -> None:
    key = (c["function"], c["file"])
    assert not _control(*key), f"serves no request: {where}"
    via = c.get("via")
    if not is_app_file(c["file"]):
        assert via is None, f"a library culprit with a via: {where}"
        assert key in index.library_leaves, f"a library culprit with user code on its stack: {where}"
        assert user_share < MIN_APP_SHARE, f"a library culprit beside the user's code: {where}"
        return
    assert key in index.at_work, f"a user's culprit never seen at work: {where}"
    if via is not None:
        vkey = (via["function"], via["file"])
        assert not is_app_file(vkey[1]) and not is_probe_file(vkey[1]), f"via is no library call: {where}"
        assert not _control(*vkey), f"via serves no request: {where}"
        assert (key, vkey) in index.calls, f"the culprit never called its via: {where}"


def check_recording_culprits(rec: Path) -> dict:
    """:func:`check_culprits` on the recording's own ``diagnosis.json``; returns it."""
    diagnosis = json.loads((rec / "diagnosis.json").read_text())
    check_culprits(diagnosis, rec)
    return diagnosis
