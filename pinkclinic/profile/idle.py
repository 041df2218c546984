"""Which samples are waiting, judged from their leaf frames.

By default ``pinkclinic flame`` records py-spy *without* ``--idle``: py-spy then keeps
only the samples of threads the OS shows running, the reliable on-CPU test, and
these rules are switched off (every sample is CPU time). With ``--idle`` (and in
doctor) py-spy keeps the waiting samples too, and its record formats do not mark
which ones wait, so they are classified here. This can only catch waits it knows:
a blocking call whose leaf is Python code (``time.sleep`` and ``sock.recv`` show as
their caller without ``--native``) counts as busy. Two kinds of rule:

* **Wait frames** are functions that only ever wait: ``EpollSelector.select``
  (plain asyncio), ``Condition.wait`` and friends (threading), ``epoll_pwait``
  (libc, with ``--native``). Such a frame gets the area ``idle``, and a sample
  whose leaf is one is idle.
* **Loop entries** are frames that enter a native loop and whose *leaf* samples
  are waits, while they are also parents of real work: uvloop without
  ``--native`` shows its idle samples as a leaf ``Runner.run
  (asyncio/runners.py)``, with callbacks as its children. A sample ending there
  gets a synthetic ``<idle>`` leaf frame in the ``idle`` area, so the idle time
  has its own block and the loop-entry frame keeps its true area. (Cython work
  inside uvloop looks the same and is counted as idle.)
"""

from __future__ import annotations

import re

IDLE_FRAME = ("<idle>", "", 0)    # synthetic leaf for idle loop-entry samples
AWAIT_FRAME = ("<await>", "", 0)  # synthetic leaf for pyinstrument's await time

_WAIT_PY: dict[str, re.Pattern] = {
    "selectors.py": re.compile(r"(^|\.)select$"),
    "threading.py": re.compile(
        r"^(Condition\.wait|Event\.wait|Thread\.join|Thread\._wait_for_tstate_lock|"
        r"(Bounded)?Semaphore\.acquire|Barrier\._?wait|Condition\.wait_for)$"),
    "socket.py": re.compile(r"^(socket\.accept|SocketIO\.readinto)$"),
    "subprocess.py": re.compile(r"^Popen\._(try_)?wait$"),
    "socketserver.py": re.compile(r"^_?ServerSelector\.select$"),
    # older gunicorn sleeps in select(); 27 blocks in SIG_QUEUE.get, a C queue call
    "gunicorn/arbiter.py": re.compile(r"^Arbiter\.(sleep|wait_for_signals)$"),
    "gunicorn/workers/sync.py": re.compile(r"^SyncWorker\.wait$"),
}

# Python frames that spend their samples in a call that releases the GIL: a socket's send
# or receive (py-spy without --native shows the C call as its Python caller). A thread
# sampled in one is in the call (in the kernel, or blocked) or waiting to get the GIL
# back after it: either way it does not hold the GIL.
_RELEASES_GIL_PY: dict[str, re.Pattern] = {
    "socketserver.py": re.compile(r"^_SocketWriter\.write$"),
    "socket.py": re.compile(r"^(SocketIO\.(readinto|write)|socket\._?sendfile\w*)$"),
    "ssl.py": re.compile(r"^SSL(Socket|Object)\.(send|sendall|recv|recv_into|read|write)$"),
    "gunicorn/util.py": re.compile(r"^(write|write_chunk)$"),
    "gunicorn/http/unreader.py": re.compile(r"^SocketUnreader\.chunk$"),
}

_WAIT_NATIVE = frozenset(
    """
epoll_wait epoll_pwait epoll_pwait2 poll ppoll select pselect pselect6 __poll __select
__GI___poll __GI_epoll_wait __GI___select __GI_epoll_pwait __libc_epoll_wait
accept accept4 __libc_accept __libc_accept4 recv recvfrom __libc_recv __libc_recvfrom
nanosleep clock_nanosleep __clock_nanosleep __GI___clock_nanosleep __nanosleep
pthread_cond_wait pthread_cond_timedwait pthread_cond_clockwait __pthread_cond_wait
__pthread_cond_timedwait __pthread_cond_wait_common ___pthread_cond_timedwait64
__futex_abstimed_wait_common __futex_abstimed_wait_common64 __GI___futex_abstimed_wait_cancelable64
futex_wait do_futex_wait do_futex_wait.constprop.0 sem_wait sem_timedwait sem_clockwait
__new_sem_wait_slow64 __new_sem_wait_slow64.constprop.0 uv__io_poll_wait
""".split()  # noqa: SIM905 - a word list reads better
)

_LOOP_ENTRY = (
    ("asyncio/runners.py", re.compile(r".")),
    ("uvloop/__init__.py", re.compile(r"^run$")),
    ("concurrent/futures/thread.py", re.compile(r"^_worker$")),  # blocked in SimpleQueue.get
)

_PY_SOURCE = (".py", ".pyx", ".pyw")


def _tail(file: str) -> str:
    return file.replace("\\", "/")


def is_wait_frame(function: str, file: str) -> bool:
    """A frame that only ever waits (its area becomes ``idle``)."""
    if (function, file) in (IDLE_FRAME[:2], AWAIT_FRAME[:2]):
        return True
    f = _tail(file)
    if not f.endswith(_PY_SOURCE):
        name = function.split(" ", 1)[0]
        return name in _WAIT_NATIVE
    return _listed(_WAIT_PY, function, f)


def _listed(table: dict[str, re.Pattern], function: str, f: str) -> bool:
    """``function`` of file ``f`` (``/``-separated) is in ``table``: its file is the
    key or ends in ``/`` + key, and the pattern matches the function's name."""
    return any((f == suffix or f.endswith("/" + suffix)) and pat.search(function)
               for suffix, pat in table.items())


def releases_gil(function: str, file: str) -> bool:
    """A frame whose samples do not hold the GIL: one that only waits, or one in a call
    that releases it (``_RELEASES_GIL_PY``)."""
    return is_wait_frame(function, file) or _listed(_RELEASES_GIL_PY, function, _tail(file))


def is_loop_entry(function: str, file: str) -> bool:
    """A frame whose samples, when it is the leaf, are the loop waiting."""
    f = _tail(file)
    return any(f.endswith("/" + suffix) and pat.search(function) for suffix, pat in _LOOP_ENTRY)
