"""Load in worker processes: ``-w/--workers N``.

Each worker is ``python -m pinkclinic.load.http1.workers_child FD PARENT_PID``, talking
over a socketpair with pickled messages. It gets a share of the spec
(connections, amount and rate divided; rate schedules interleaved), connects,
reports ``ready``, starts at the common ``go`` time, streams one bin a second
and ends with ``end``. The parent merges the bins exactly (stats.Aggregator)
and calls ``on_tick`` in its own process. A worker dies with its parent
(``PR_SET_PDEATHSIG``) and ignores Ctrl-C: the parent tells it to stop.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection, wait
from time import perf_counter_ns

from pinkclinic.errors import PinkError
from pinkclinic.load.core.result import LoadResult
from pinkclinic.load.core.spec import LoadSpec
from pinkclinic.load.core.stats import Aggregator

GO_DELAY_S = 0.05
SILENCE_S = 10.0  # a worker silent for timeout + this long is taken as hung


class _Worker:
    def __init__(self, index: int, share: LoadSpec, n: int, token: str, phase: float):
        parent, child = socket.socketpair()
        self.err = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pinkclinic.load.http1.workers_child", str(child.fileno()),
             str(os.getpid())],
            pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.err)
        child.close()
        self.ch = Connection(parent.detach())
        self.index = index
        self.ch.send(("spec", share, index, n, token, phase))
        self.end: dict | None = None
        self.alive = True
        self.heard = time.monotonic()
        self.error: str | None = None  # what the worker said, or why we gave up on it
        self.lost_at: float | None = None  # monotonic time it was found dead
        self.stderr_tail = ""
        self.closed = False

    def lost(self, why: str | None = None) -> None:
        """The worker is gone (or given up on) before its end message."""
        self.alive = False
        self.lost_at = time.monotonic()
        if why is not None and self.error is None:
            self.error = why

    def failure(self) -> str:
        """How the worker failed: its own message, its exit status, its last stderr line."""
        if not self.closed:
            self._read_stderr()
        if self.error is not None:
            return self.error
        code = self.proc.poll()
        if code is None:
            how = "stopped answering"
        elif code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        return f"{how}: {self.stderr_tail}" if self.stderr_tail else how

    def _read_stderr(self) -> None:
        try:
            self.err.seek(0)
            lines = self.err.read().decode(errors="replace").strip().splitlines()
        except (OSError, ValueError):
            return
        self.stderr_tail = lines[-1] if lines else ""

    def close(self) -> None:
        try:
            self.ch.send(("stop",))
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._read_stderr()  # before the file goes: failure() reads it after close()
        self.closed = True
        self.ch.close()
        self.err.close()


def run_workers(spec: LoadSpec, on_tick=None, stop: threading.Event | None = None) -> LoadResult:
    """Run ``spec`` in ``spec.workers`` processes. A worker that dies mid-run does not lose
    the others' results: what it sent is merged, and ``worker_failures`` says how it died."""
    n = spec.workers
    token = secrets.token_hex(4)
    rate_step = (1.0 / spec.rate) if spec.rate else 0.0
    workers = [_Worker(i, s, n, token, i * rate_step) for i, s in enumerate(spec.split(n))]
    go_at = time.monotonic()
    try:
        for w in workers:
            msg = _recv(w, spec.timeout + 60)
            if msg[0] != "ready":
                raise PinkError(f"load worker {w.index} did not start: {w.failure()}")
        go_ns = perf_counter_ns() + int(GO_DELAY_S * 1e9)
        go_at = time.monotonic() + GO_DELAY_S
        agg = Aggregator(n, time.time() + GO_DELAY_S + spec.warmup, on_tick)
        for w in workers:
            w.ch.send(("go", go_ns))
        stopping = False
        while any(w.alive for w in workers):
            if stop is not None and stop.is_set() and not stopping:
                stopping = True
                for w in workers:
                    if w.alive:
                        _send(w, ("stop",))
            ready = wait([w.ch for w in workers if w.alive], timeout=0.1)
            now = time.monotonic()
            for w in workers:
                if not w.alive:
                    continue
                if w.ch in ready:
                    _handle(w, agg)
                elif now - w.heard > spec.timeout + SILENCE_S:
                    w.proc.kill()
                    w.lost(f"silent for {now - w.heard:.0f}s, killed as hung")
                    agg.done(w.index)
        agg.finish()
    finally:
        for w in workers:
            w.close()
    return _result(spec, agg, workers, go_at)


def _result(spec: LoadSpec, agg: Aggregator, workers: list[_Worker], go_at: float) -> LoadResult:
    ends = [w.end for w in workers if w.end]
    failures = [f"load worker {w.index} died after {max(0.0, (w.lost_at or go_at) - go_at):.1f}s "
                f"({w.failure()}); what it sent until then is included"
                for w in workers if not w.end]
    if not ends and not agg.timeline:
        raise PinkError(failures[0] if failures else "every load worker failed")
    started = [e for e in ends if e.get("started")]
    if started:
        duration = (max(e["end_ns"] for e in started) - min(e["t0_ns"] for e in started)) / 1e9
    else:  # no worker finished: the seconds that arrived
        duration = sum(s[0] for s in agg.samples)
    return LoadResult.from_aggregate(
        spec, agg, duration=duration, inflight=sum(e["inflight"] for e in ends),
        interrupted=any(e["interrupted"] for e in ends), notes=failures,
        connecting=sum(e.get("connecting", 0) for e in ends), worker_failures=failures,
        ended_by=next((e["ended_by"] for e in ends if e.get("ended_by")), ""),
        unsent=sum(e.get("unsent", 0) for e in ends),
        deadline_s=max((e.get("deadline_s", 0.0) for e in ends), default=0.0))


def _recv(w: _Worker, timeout: float):
    if not w.ch.poll(timeout):
        raise PinkError(f"load worker {w.index} did not answer within {timeout:.0f}s")
    try:
        return w.ch.recv()
    except (EOFError, OSError):
        raise PinkError(f"load worker {w.index} failed: {w.failure()}") from None


def _send(w: _Worker, msg) -> None:
    try:
        w.ch.send(msg)
    except OSError:
        pass


def _handle(w: _Worker, agg: Aggregator) -> None:
    try:
        msg = w.ch.recv()
    except (EOFError, OSError):
        w.lost()  # died: failure() tells how from its exit status
        agg.done(w.index)
        return
    w.heard = time.monotonic()
    if msg[0] == "bin":
        agg.add(w.index, msg[1])
    elif msg[0] == "end":
        w.end = msg[1]
        w.alive = False
        agg.done(w.index)
    elif msg[0] == "error":
        w.lost(msg[1])
        agg.done(w.index)
