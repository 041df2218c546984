"""The end-to-end culprit check (:mod:`tests.commands.culprit_stacks`) fails on each
kind of wrong culprit list, on a synthetic recording whose stalls are known."""

from __future__ import annotations

import pytest

from tests.commands.culprit_stacks import check_culprits
from tests.synth import STDLIB, Synth, frame, on_loop

DUMPS = ["dumps", f"{STDLIB}/json/__init__.py", 231]
WRITE = ["_SelectorSocketTransport.write", f"{STDLIB}/asyncio/selector_events.py", 1070]
SERVE = ["Server.serve_forever", f"{STDLIB}/asyncio/base_events.py", 369]


def culprit(func, file, share=0.5, **extra):
    return {"function": func, "file": file, "line": 1, "share": share, **extra}


def diagnosis(*culprits):
    return {"findings": [{"signal": "loop", "category": "loop-cpu", "culprits": list(culprits)}],
            "issues": []}


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    """Stalls in render_page (under json.dumps) and in the transport's write after a
    handler returned (no user frame); the app's main awaiting serve_forever."""
    s = Synth(tmp_path_factory.mktemp("check"), load_s=4.0)
    p = s.probe(pid=100)
    p.block(t=s.t0 + 1, dur_ms=200, stack=on_loop(frame("render_page", 30), DUMPS))
    p.block(t=s.t0 + 2, dur_ms=50, stack=on_loop(WRITE))
    p.waits([([frame("main", 80), SERVE], 1)])
    return s.rec.path


def test_the_rule_s_own_lists_pass(rec):
    via = {"function": "dumps", "file": DUMPS[1], "line": 231}
    check_culprits(diagnosis(culprit("render_page", "/srv/app.py", 0.8, via=via)), rec)
    check_culprits(diagnosis(culprit(*WRITE[:2], 0.95), culprit("render_page", "/srv/app.py", 0.05)), rec)


@pytest.mark.parametrize("bad, why", [
    # the library frame called under the user's code, named instead of it
    ([culprit(*DUMPS[:2])], "user code on its stack"),
    # a library frame listed beside the user's code that holds most of the time
    ([culprit("render_page", "/srv/app.py", 0.8), culprit(*WRITE[:2], 0.2)], "beside the user's code"),
    ([culprit("render_page", "/srv/app.py", via={"function": "main", "file": "/srv/app.py", "line": 1})],
     "no library call"),
    ([culprit("render_page", "/srv/app.py", via={"function": "loads", "file": DUMPS[1], "line": 1})],
     "never called its via"),
    ([culprit(*WRITE[:2], via={"function": "dumps", "file": DUMPS[1], "line": 1})], "library culprit with a via"),
    ([culprit("main", "/srv/app.py")], "never seen at work"),  # it only awaited the accept loop
    ([culprit(*SERVE[:2])], "serves no request"),
])
def test_each_wrong_list_fails(rec, bad, why):
    with pytest.raises(AssertionError, match=why):
        check_culprits(diagnosis(*bad), rec)
