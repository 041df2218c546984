"""``pinkclinic waits``'s command line: listed, documented, and bad input in one line."""

from __future__ import annotations

import pytest

from tests.helpers import run_cli


def test_waits_is_listed_and_its_help_says_what_it_writes():
    assert "waits" in run_cli("--help", check=True).stdout
    out = run_cli("waits", "--help", check=True).stdout
    assert "waits.json" in out and "--json" in out and "--pid" in out and "--load" in out


@pytest.mark.parametrize("args,words", [
    ((), "nothing to waits"),
    (("--pid", "999999999"), "999999999"),
    (("--load", "-c x", "--", "python", "app.py"), "-c"),
])
def test_bad_input_is_one_line_and_no_traceback(tmp_path, args, words):
    proc = run_cli("waits", "--dest", str(tmp_path), *args)
    assert proc.returncode != 0
    errors = [x for x in proc.stderr.strip().splitlines() if "error" in x]  # phases aside
    assert len(errors) == 1 and errors[0].startswith("pinkclinic: error:") and words in errors[0], \
        proc.stderr
    assert "Traceback" not in proc.stderr
