"""Load in worker processes: ``-w/--workers N``.

Each worker is ``python -m pinkclinic.load.workers FD PARENT_PID``, talking
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
from pinkclinic.load.result import LoadResult
from pinkclinic.load.spec import LoadSpec
from pinkclinic.load.stats import Aggregator

GO_DELAY_S = 0.05
SILENCE_S = 10.0  # a worker silent for timeout + this long is taken as hung


class _Worker:
    def __init__(self, index: int, share: LoadSpec, n: int, token: str, phase: float):
        parent, child = socket.socketpair()
        self.err = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pinkclinic.load.workers", str(child.fileno()), str(os.getpid())],
            pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.err)
        child.close()
        self.ch = Connection(parent.detach())
        self.index = index
        self.ch.send(("spec", share, index, n, token, phase))
        self.end: dict | None = None
        self.alive = True
        self.heard = time.monotonic()

    def failure(self) -> str:
        self.err.seek(0)
        lines = self.err.read().decode(errors="replace").strip().splitlines()
        code = self.proc.poll()
        return lines[-1] if lines else f"load worker {self.index} exited with code {code}"

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
        self.ch.close()
        self.err.close()


def run_workers(spec: LoadSpec, on_tick=None, stop: threading.Event | None = None) -> LoadResult:
    n = spec.workers
    token = secrets.token_hex(4)
    rate_step = (1.0 / spec.rate) if spec.rate else 0.0
    workers = [_Worker(i, s, n, token, i * rate_step) for i, s in enumerate(spec.split(n))]
    try:
        for w in workers:
            msg = _recv(w, spec.timeout + 60)
            if msg[0] != "ready":
                raise PinkError(f"load worker {w.index} did not start: {w.failure()}")
        go_ns = perf_counter_ns() + int(GO_DELAY_S * 1e9)
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
                    w.alive = False
                    agg.done(w.index)
        agg.finish()
    finally:
        for w in workers:
            w.close()
    ends = [w.end for w in workers if w.end]
    notes = [f"load worker {w.index} failed: {w.failure()}" for w in workers if not w.end]
    if not ends:
        raise PinkError(notes[0] if notes else "every load worker failed")
    started = [e for e in ends if e["connected"]]
    duration = ((max(e["end_ns"] for e in started) - min(e["t0_ns"] for e in started)) / 1e9
                if started else 0.0)
    return LoadResult.from_aggregate(
        spec, agg, duration=duration, inflight=sum(e["inflight"] for e in ends),
        interrupted=any(e["interrupted"] for e in ends), notes=notes)


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
        w.alive = False
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
        w.alive = False
        agg.done(w.index)
        raise PinkError(msg[1])


# -- the worker side ----------------------------------------------------------------------
class _PipeStop:
    """``is_set()`` for the engine: has the parent sent ``stop`` (or gone away)?"""

    def __init__(self, ch: Connection):
        self.ch = ch
        self.flag = False

    def is_set(self) -> bool:
        if not self.flag:
            try:
                if self.ch.poll():
                    self.ch.recv()
                    self.flag = True
            except (EOFError, OSError):
                self.flag = True
        return self.flag


def worker_main(argv: list[str]) -> int:
    from pinkclinic.load.engine import Engine
    from pinkclinic.load.runner import _close_loop, new_event_loop
    from pinkclinic.load.spec import IdSource
    from pinkclinic.procs import pdeathsig_preexec

    fd, parent = int(argv[0]), int(argv[1])
    pdeathsig_preexec(signal.SIGTERM, parent_pid=parent)()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ch = Connection(fd)
    try:
        _, spec, index, n, token, phase = ch.recv()
        loop = new_event_loop()
        stop = _PipeStop(ch)
        eng = Engine(spec, lambda b: ch.send(("bin", b)), stop=stop,
                     ids=IdSource(token, start=index, step=n), rate_phase=phase)
        try:
            loop.run_until_complete(eng.connect_all())
            ch.send(("ready", eng.ever_connected))
            msg = ch.recv()
            if msg[0] != "go":
                return 0
            end = loop.run_until_complete(eng.run(msg[1]))
            end["t0_ns"] = getattr(eng, "t0_ns", end["end_ns"])
            ch.send(("end", end))
        finally:
            _close_loop(loop)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return 1  # the parent went away
    except PinkError as e:
        ch.send(("error", e.message))
        return 1
    except Exception as e:
        ch.send(("error", f"load worker {os.getpid()}: {type(e).__name__}: {e}"))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
