"""A watchdog process: if pinkclinic dies (even by ``kill -9``), nothing it started survives.

The watchdog is a tiny stdlib-only Python process in its own session (so a terminal
Ctrl-C does not reach it). pinkclinic keeps the write end of a pipe to its stdin and
tells it, one line at a time, what to watch:

    group PGID      a launched target: its process group and everything below its leader
    collector PID   e.g. py-spy: gets SIGINT first, so it still writes its file
    forget KIND ID  stop watching (the target was stopped normally)
    quit            exit without touching anything

When the pipe reaches EOF without ``quit`` (pinkclinic is gone: the kernel closes its fds
whatever killed it), the watchdog SIGINTs the collectors, then stops every watched
tree: SIGCONT + SIGINT (like Ctrl-C), SIGTERM after a grace period, SIGKILL last,
and finally SIGCONTs what is left (a collector killed mid-sample can leave its target
stopped). The whole sequence takes at most about 3.5 s.
"""

from __future__ import annotations

import os
import subprocess
import sys

WATCHDOG_CODE = r'''
import os, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)

def stat(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            d = f.read()
    except OSError:
        return None
    return d[d.rfind(b")") + 2:].split()

def alive(pid):
    s = stat(pid)
    return s is not None and s[0] not in (b"Z", b"X")

def children(pid):
    out = []
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return out
    for t in tids:
        try:
            with open("/proc/%d/task/%s/children" % (pid, t), "rb") as f:
                out += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out

def tree(root):
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        if p not in out and alive(p):
            out.append(p)
            todo += children(p)
    return out

def group(pgid):
    out = []
    for e in os.listdir("/proc"):
        if e.isdigit():
            s = stat(int(e))
            if s and s[0] not in (b"Z", b"X") and s[2] == str(pgid).encode():
                out.append(int(e))
    return out

def send(pids, sig):
    for p in pids:
        try:
            os.kill(p, signal.SIGCONT)
            os.kill(p, sig)
        except OSError:
            pass

def wait(pids, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        pids = [p for p in pids if alive(p)]
        if not pids:
            return []
        time.sleep(0.02)
    return [p for p in pids if alive(p)]

groups, collectors = set(), set()
buf = b""
while True:
    try:
        data = os.read(0, 4096)
    except InterruptedError:
        continue
    if not data:
        break
    buf += data
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        words = line.decode().split()
        if not words:
            continue
        if words[0] == "quit":
            sys.exit(0)
        if words[0] == "group":
            groups.add(int(words[1]))
        elif words[0] == "collector":
            collectors.add(int(words[1]))
        elif words[0] == "forget":
            (groups if words[1] == "group" else collectors).discard(int(words[2]))

# pinkclinic is gone: stop everything it left behind, collectors first.
send(collectors, signal.SIGINT)
left = wait(list(collectors), 1.0)
targets = set()
for g in groups:
    targets.update(tree(g))
    targets.update(group(g))
targets = list(targets)
for sig, grace in ((signal.SIGINT, 1.5), (signal.SIGTERM, 1.0), (signal.SIGKILL, 0.5)):
    for g in groups:
        try:
            os.killpg(g, signal.SIGCONT)
            os.killpg(g, sig)
        except OSError:
            pass
    send(targets, sig)
    targets = wait(targets + [p for g in groups for p in group(g)], grace)
    if not targets:
        break
left = wait(left, 0.1)
send(left, signal.SIGKILL)
for g in groups:
    send(tree(g) + group(g), signal.SIGCONT)
'''


class Watchdog:
    """Handle on a watchdog process. Commands are best effort: if the watchdog died,
    pinkclinic carries on (its own ``stop`` still cleans up in the normal case)."""

    def __init__(self) -> None:
        r, w = os.pipe()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-c", WATCHDOG_CODE], stdin=r,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True, close_fds=True)
        finally:
            os.close(r)
        self._w: int | None = w  # non-inheritable: no other child holds it open

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _send(self, line: str) -> None:
        if self._w is None:
            return
        try:
            os.write(self._w, (line + "\n").encode())
        except OSError:  # the watchdog is gone
            pass

    def watch_group(self, pgid: int) -> None:
        self._send(f"group {pgid}")

    def watch_collector(self, pid: int) -> None:
        self._send(f"collector {pid}")

    def forget_group(self, pgid: int) -> None:
        self._send(f"forget group {pgid}")

    def forget_collector(self, pid: int) -> None:
        self._send(f"forget collector {pid}")

    def close(self, timeout: float = 2.0) -> None:
        """Tell the watchdog to exit without touching anything, and reap it."""
        if self._w is None:
            return
        self._send("quit")
        os.close(self._w)
        self._w = None
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> Watchdog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
