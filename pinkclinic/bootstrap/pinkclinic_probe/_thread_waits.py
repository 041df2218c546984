"""Where threads wait: ``waits`` records (``source: "threads"``) for threads that are
not event loops (WSGI and gthread workers, executor threads, anyio's pool).

Every ``waits_ms`` the sampler thread takes each thread's Python stack
(``sys._current_frames()``) and its system call (``/proc/self/task/TID/syscall``) and
names the leaf:

``lock``       blocked in futex in ``with lock:`` or ``lock.acquire()`` (the frame's
               instruction says which; a thread in futex elsewhere waits for the GIL:
               ``ready``)
``condition``  ``threading.Condition.wait`` / ``Event.wait`` (``queue`` under ``Queue.get``)
``socket``     read/recv/send/connect on a socket fd, or poll on one (a socket call with a
               timeout: the fd read from ``/proc/self/mem``): the peer from
               ``getpeername`` on a duplicate of the fd
``sleep``      nanosleep; ``ready``: running or runnable; ``other``: any other call

Each thread weighs 1; records have the same shape as the tasks' (``_waits.record``).
Linux only (x86_64 and aarch64 system call numbers); elsewhere nothing is written.
"""
import dis
import os
import platform
import socket
import sys
import threading

_CALLS = {
    "x86_64": {0: "read", 1: "write", 7: "poll", 23: "select", 35: "nanosleep", 42: "connect",
               43: "accept", 44: "sendto", 45: "recvfrom", 46: "sendmsg", 47: "recvmsg",
               202: "futex", 230: "clock_nanosleep", 232: "epoll_wait", 270: "pselect6",
               271: "ppoll", 281: "epoll_pwait", 288: "accept4"},
    "aarch64": {63: "read", 64: "write", 72: "pselect6", 73: "ppoll", 98: "futex",
                101: "nanosleep", 115: "clock_nanosleep", 202: "accept", 203: "connect",
                206: "sendto", 207: "recvfrom", 211: "sendmsg", 212: "recvmsg", 22: "epoll_pwait",
                242: "accept4"},
}.get(platform.machine())
_FD_CALLS = {"read", "write", "connect", "sendto", "recvfrom", "sendmsg", "recvmsg"}
_WAIT_OPS = {"BEFORE_WITH", "SETUP_WITH", "BEFORE_ASYNC_WITH"}
_CALL_OPS = {"CALL", "CALL_FUNCTION", "CALL_METHOD", "PRECALL", "CALL_KW"}
MAX_FRAMES = 64
_instructions = {}  # code -> {offset: (opname, name of the attribute called)}


def available():
    return _CALLS is not None and os.path.isdir("/proc/self/task")


def _syscall(native_id):
    try:
        with open(f"/proc/self/task/{native_id}/syscall") as f:
            parts = f.read().split()
    except OSError:
        return None, None
    if not parts or parts[0] == "running":
        return "running", None
    try:
        nr, args = int(parts[0]), [int(a, 16) for a in parts[1:4]]
    except ValueError:
        return None, None
    call = _CALLS.get(nr, "other")
    if call in ("poll", "ppoll") and len(args) > 1 and args[1] == 1:
        return call, _pollfd(args[0])  # one fd polled: a socket call with a timeout
    return call, args[0] if args else None


def _pollfd(address):
    """The fd of the one ``struct pollfd`` at ``address`` in this process's memory."""
    try:
        with open("/proc/self/mem", "rb", buffering=0) as mem:
            mem.seek(address)
            raw = mem.read(4)
    except (OSError, ValueError, OverflowError):
        return None
    return int.from_bytes(raw, sys.byteorder, signed=True) if len(raw) == 4 else None


def _acquiring(frame):
    """True if the frame's current instruction enters a ``with`` or calls ``.acquire``."""
    code = frame.f_code
    table = _instructions.get(code)
    if table is None:
        table, last_attr = {}, None
        for ins in dis.get_instructions(code):
            if ins.opname in ("LOAD_ATTR", "LOAD_METHOD"):
                last_attr = ins.argval
            table[ins.offset] = (ins.opname, last_attr)
            if ins.opname in _CALL_OPS and ins.opname != "PRECALL":
                last_attr = None
        if len(_instructions) > 5000:
            _instructions.clear()
        _instructions[code] = table
    op, attr = table.get(frame.f_lasti, (None, None))
    return op in _WAIT_OPS or (op in _CALL_OPS and attr == "acquire")


def _peer(fd, cache):
    """The peer of socket ``fd``: ``getpeername`` on a duplicate of it (the process's
    TCP table in /proc can hold tens of thousands of lines: never read here)."""
    if fd in cache:
        return cache[fd]
    peer = None
    try:
        if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:["):
            with socket.socket(fileno=os.dup(fd)) as s:
                addr = s.getpeername()
            if isinstance(addr, tuple):
                host = addr[0]
                peer = f"[{host}]:{addr[1]}" if ":" in host else f"{host}:{addr[1]}"
            else:
                peer = str(addr) or "socket"
    except OSError:
        peer = "socket" if peer is None and _is_socket(fd) else peer
    cache[fd] = peer
    return peer


def _is_socket(fd):
    try:
        return os.readlink(f"/proc/self/fd/{fd}").startswith("socket:[")
    except OSError:
        return False


def _leaf(frame, call, arg0, cache):
    fn, name = frame.f_code.co_filename, frame.f_code.co_name
    base = os.path.basename(fn)
    if call == "running":
        return "ready", ""
    if base == "threading.py" and name == "_wait_for_tstate_lock":
        return "other", "Thread.join"
    if base == "threading.py" and name == "wait":
        outer = frame.f_back
        while outer is not None and os.path.basename(outer.f_code.co_filename) == "threading.py":
            outer = outer.f_back
        if outer is not None and os.path.basename(outer.f_code.co_filename) == "queue.py":
            return "queue", "queue.Queue"
        return "condition", "threading.Condition"
    if call == "futex":
        return ("lock", "threading.Lock") if _acquiring(frame) else ("ready", "")
    if call in ("nanosleep", "clock_nanosleep"):
        return "sleep", ""
    if (call in _FD_CALLS or call in ("poll", "ppoll")) and arg0 is not None:
        peer = _peer(arg0, cache)
        if peer:
            return "socket", peer
    return "other", call or "unknown"


def snapshot(skip_idents):
    """{(stack key, kind, resource): [count, None]} over the threads not in ``skip_idents``."""
    groups, cache = {}, {}
    frames = sys._current_frames()
    for ident, frame in frames.items():
        thread = threading._active.get(ident)
        if ident in skip_idents or thread is None or frame is None:
            continue
        call, arg0 = _syscall(getattr(thread, "native_id", None))
        if call is None:
            continue
        kind, resource = _leaf(frame, call, arg0, cache)
        stack = []
        f = frame
        while f is not None and len(stack) < MAX_FRAMES:
            stack.append((f.f_code, f.f_lineno or 0))
            f = f.f_back
        g = groups.setdefault((tuple(reversed(stack)), kind, resource), [0.0, None])
        g[0] += 1
    return groups
