"""The worker side of ``-w/--workers``: ``python -m pinkclinic.load.http1.workers_child FD PARENT_PID``.

It reads its share of the spec from the socketpair FD, connects, says ``ready``,
starts at the parent's ``go`` time, sends one bin a second and ``end``. It dies
with its parent (``PR_SET_PDEATHSIG``) and ignores Ctrl-C: the parent tells it
to stop (see :mod:`pinkclinic.load.http1.workers`).
"""

from __future__ import annotations

import os
import signal
import sys
from multiprocessing.connection import Connection

from pinkclinic.errors import PinkError
from pinkclinic.load.core.loop import close_loop, new_event_loop
from pinkclinic.load.core.spec import IdSource
from pinkclinic.load.http1.engine import Engine
from pinkclinic.procs import pdeathsig_preexec


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
            ch.send(("ready", eng.conns.ever_connected))
            msg = ch.recv()
            if msg[0] != "go":
                return 0
            end = loop.run_until_complete(eng.run(msg[1]))
            end["t0_ns"] = eng.t0_ns
            ch.send(("end", end))
        finally:
            close_loop(loop)
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
