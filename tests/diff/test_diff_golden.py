"""The diff of a small real pair (two `pinkclinic flame` runs of samples/diff/shop.py, the
second with render_report 3x cheaper) is exactly the JSON it was before the 1M-sample
speed-ups (issue 11): counting stacks as frame indices, weighing removed paths on the
shared trie, reading BASE in a worker process. ``diff.golden.json`` was written by the code
before them; regenerate it only for an intended change of the output."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import run_cli

DATA = Path(__file__).parent / "data"


def test_the_diff_json_of_a_real_pair_is_unchanged():
    proc = run_cli("diff", str(DATA / "base.pinkclinic-flame"),
                   str(DATA / "cheap.pinkclinic-flame"), "--json")
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    for role in ("base", "new"):  # where the checkout is
        got[role]["path"] = Path(got[role]["path"]).name
    want = json.loads((DATA / "diff.golden.json").read_text())
    assert got["functions"] and got["normalised_by"] == "request"
    assert got["base"]["cpu_time_from"] == "kernel"  # the kernel's CPU time was used
    assert got == want
