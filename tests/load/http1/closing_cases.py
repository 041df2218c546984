"""Servers that close or reset connections, each with what an ``-a`` run against it must end
with: every request answered or failed exactly once, nothing left in flight or unsent.

Shared by ``test_closing_stress.py`` (a short loop in every run of the suite) and
``bench/load_stress.py`` (200 runs of each, written to ``bench/results/``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    name: str
    server: tuple[str, ...]  # tests/load/servers.py MODE [options]
    args: tuple[str, ...]  # pinkclinic bench options
    amount: int
    errors: frozenset[str]  # the error kinds this server may cause
    all_answered: bool  # every request gets an answer (the server's count equals it)


CASES = (
    Case("close", ("count", "--close"), ("-c", "4"), 300, frozenset(), True),
    Case("close-pipelined", ("count", "--close"), ("-c", "2", "-p", "4"), 200,
         frozenset({"reset"}), False),
    Case("http10", ("count", "--http10", "--body-size", "1000"), ("-c", "4"), 200,
         frozenset(), True),
    Case("reset", ("reset",), ("-c", "2"), 50, frozenset({"reset"}), False),
    Case("drop", ("drop",), ("-c", "2"), 50, frozenset({"reset", "closed"}), False),
)


def problems(case: Case, r, server_count: int | None) -> list[str]:
    """What is wrong with result ``r`` of one run of ``case`` (empty when it is exact)."""
    out = []
    if r.requests + r.error_count != case.amount:
        out.append(f"{r.requests} answered + {r.error_count} failed != {case.amount}")
    if r.inflight or r.unsent or r.ended_by:
        out.append(f"unended: {r.inflight} in flight, {r.unsent} unsent ({r.ended_by or 'ended'})")
    if set(r.errors) - case.errors:
        out.append(f"unexpected errors {r.errors}")
    if case.all_answered and not (r.requests == case.amount == server_count):
        out.append(f"{r.requests} answered, server counted {server_count}, want {case.amount}")
    return out
