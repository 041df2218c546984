"""The deadline of an ``-a`` run (a fixed amount of requests), one rule for every engine.

A run that works as it must never reaches it: each request ends within ``-t`` (an answer,
an error or a timeout) after a connect that itself succeeds or fails within ``-t``, and a
failed connect is tried again within ``BACKOFF_MAX_S``. An engine that passes it, or that
stalls before it (nothing in flight, nothing that could send the requests left), has a
bug: it stops with what it has and says so
(:func:`pinkclinic.load.core.result.unended_note`), so that no run can hang, whatever the
server does.
"""

from __future__ import annotations

import math

BACKOFF_MAX_S = 1.0  # the longest wait before a failed connect is tried again, in every engine
CONNECT_WAIT_S = 1.0  # how long the first connects may delay the start of the clock
SWEEP_S = 0.1  # how often the HTTP/1.1 engine looks for timeouts: the most one is seen late


def amount_deadline_s(spec, parallel: int) -> float:
    """The longest an ``-a`` run can take if every request ends as it must, ``parallel``
    requests at a time (HTTP/1.1: connections × pipelining; HTTP/2: connections × streams;
    WebSocket: connections): each works through its share of the amount one round at a
    time, and a round is at worst a connect that succeeds just before ``-t`` and a request
    that times out (each seen up to ``SWEEP_S`` late), or a failed connect and its backoff.
    Past it, the run is stuck."""
    per_round = 2 * (spec.timeout + SWEEP_S) + BACKOFF_MAX_S
    rounds = math.ceil(spec.amount / max(1, parallel))
    worst = rounds * per_round
    if spec.rate:  # the schedule itself takes amount / rate
        worst = max(worst, spec.amount / spec.rate + per_round)
    return spec.warmup + CONNECT_WAIT_S + worst + spec.timeout
