"""A comprehension's frame is named after the function it sits in (issue 14), on a real
server: CPU work on the event loop inside a list comprehension (and a generator inside
it). On CPython 3.11 and older each has a frame of its own; on 3.12+ they are inlined,
and the culprit is the same function."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.commands.culprit_stacks import check_culprits
from tests.helpers import run_cli

APP = Path(__file__).resolve().parent.parent / "analysis" / "apps" / "comprehension_server.py"


def test_a_comprehension_culprit_is_its_function(tmp_path):
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", "comp", "--load", "-c 4 -d 3",
                   "--", sys.executable, str(APP), timeout=120, env={**os.environ, "PORT": "0"})
    assert proc.returncode == 0, proc.stderr
    rec = tmp_path / "comp.pinkclinic-doctor"
    d = json.loads((rec / "diagnosis.json").read_text())
    assert d["verdict"] == "loop-cpu", d["summary"]
    check_culprits(d, rec)
    names = [c["function"] for c in d["issues"][0]["culprits"]]
    assert names[0] == "build_session_graph", names
    assert not any("<listcomp>" in n or "<genexpr>" in n for n in names), names
    assert "build_session_graph()" in proc.stdout
