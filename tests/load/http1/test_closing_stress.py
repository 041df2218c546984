"""``-a`` runs against servers that close connections, looped in-process with a core busy.

This once hung for good (issue 18): a connection made, but whose connect task's done
callback had not yet run, still counted as one being dialed, so when the server closed
the others no new connection took the last requests. ``bench/load_stress.py`` runs the
same cases 200 times each.
"""

from __future__ import annotations

import pytest

from pinkclinic.load import run_load
from pinkclinic.loadargs import parse_bench_args
from tests.helpers import busy_core
from tests.load.http1.closing_cases import CASES, problems

RUNS = 10


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_run_ends_with_exact_counts(serve, case):
    s = serve(*case.server)
    with busy_core(0):
        for i in range(RUNS):
            before = s.counts()["requests"] if case.all_answered else 0
            r = run_load(parse_bench_args(["-a", str(case.amount), *case.args, s.url]))
            served = s.counts()["requests"] - before if case.all_answered else None
            assert problems(case, r, served) == [], f"run {i}: {r.errors}"
