"""The probe object every feature gets: options, the record stream, periodic jobs,
the probe's own threads, and what happens at fork and at exit.

Standard library only, CPython 3.8+. Nothing here may raise into the target.
"""
import collections
import json
import os
import sys
import threading
import time

from . import _redact

SCHEMA_VERSION = 1
THREAD_PREFIX = "pinkclinic-probe"
COALESCE = 0.2  # a periodic job runs up to this share of its period early, with others
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
MAX_PENDING = 256  # deferred records kept before a write from the deferring thread


class Writer:
    """An append-only JSON-lines file. A record is written with one ``os.write`` at
    once (:meth:`write`), so a ``kill -9`` of the target leaves every complete line
    readable; or kept in memory for the next write or :meth:`flush` (:meth:`defer`),
    for records made on the target's own threads: a ``write`` to a file can sleep
    for tens of ms while the disk is busy (a journal commit, dirty-page throttling),
    and on an event loop's thread that sleep is a stall the probe made. The probe's
    threads write what was deferred, in order, before their own records; a deferred
    record waits at most about a second, and that is all a ``kill -9`` can lose.
    Each process image writes its own header line when it opens the file."""

    def __init__(self, path, header):
        self.path = path
        self._lock = threading.Lock()
        self._pending = collections.deque()  # encoded records; append/popleft are atomic
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _O_CLOEXEC, 0o644)
        self.write(header)

    @staticmethod
    def _encode(rec):
        try:
            return (json.dumps(rec, sort_keys=True, separators=(",", ":"), allow_nan=False,
                               default=str) + "\n").encode("ascii")
        except (TypeError, ValueError):
            return None

    def write(self, rec):
        data = self._encode(rec)
        if data is None:
            return
        with self._lock:
            self._write(self._drain() + data)

    def defer(self, rec):
        """Encode ``rec`` now and write it with the next :meth:`write` or :meth:`flush`
        (at once when MAX_PENDING are waiting: nobody is draining them). Takes no lock."""
        data = self._encode(rec)
        if data is not None:
            self._pending.append(data)
            if len(self._pending) >= MAX_PENDING:
                self.flush()

    def flush(self):
        if self._pending:
            with self._lock:
                self._write(self._drain())

    def _drain(self):
        out = []
        pending = self._pending
        while True:
            try:
                out.append(pending.popleft())
            except IndexError:
                return b"".join(out)

    def _write(self, data):
        try:
            while data and self._fd is not None:
                data = data[os.write(self._fd, data):]
        except OSError:  # disk full, fd gone: stop writing, never raise
            self._fd = None

    def abandon(self):
        """In a forked child: drop the parent's file without touching it."""
        self._pending = collections.deque()
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self):
        self.flush()
        self.abandon()


def _name_os_thread(name):
    """Best effort: name the calling OS thread (``top -H``, ``/proc/*/task/*/comm``)."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/comm", "w") as f:
            f.write(name[:15])
    except (OSError, AttributeError):
        pass


class Probe:
    def __init__(self, config):
        self.config = config
        self.dir = config["dir"]
        self.features = list(config.get("features") or [])
        self.pid = os.getpid()
        self.forked = False
        self.writer = None
        self._jobs = []  # [next_due, period_s, fn, name, current interval]
        self._own = set()  # idents of the probe's own threads
        self._sampler = None
        self._wake = threading.Event()
        self._on_fork = []
        self._on_exit = []
        self.started = []  # features installed without error
        self.running = True  # False once an attached probe detaches: its sampler ends

    # -- options and records --------------------------------------------------
    def opt(self, name, default):
        value = self.config.get(name, default)
        return default if value is None else value

    def open(self):
        argv = getattr(sys, "orig_argv", None) or sys.argv
        options = {k: v for k, v in self.config.items() if k not in ("dir", "features")}
        self.writer = Writer(self.path(f"probe-{self.pid}.jsonl"), {
            "schema_version": SCHEMA_VERSION, "stream": "probe", "t": time.time(),
            "pid": self.pid, "ppid": os.getppid(), "forked": self.forked,
            "python": ".".join(map(str, sys.version_info[:3])),
            "implementation": sys.implementation.name, "executable": sys.executable,
            "argv": _redact.argv(argv), "features": self.features, "options": options})

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, rec):
        if "t" not in rec:
            rec["t"] = time.time()
        w = self.writer
        if w is not None:
            w.write(rec)

    def defer(self, rec):
        """:meth:`write` for a record made on one of the target's threads: no system
        call there; a probe thread writes it within about a second (:class:`Writer`)."""
        if "t" not in rec:
            rec["t"] = time.time()
        w = self.writer
        if w is not None:
            w.defer(rec)

    def flush(self):
        w = self.writer
        if w is not None:
            w.flush()

    def error(self, feature, message):
        self.write({"type": "error", "feature": feature, "message": str(message)[:500]})

    # -- threads and periodic jobs ----------------------------------------------
    def spawn(self, name, target, *args):
        """Start a daemon thread named ``pinkclinic-probe-<name>`` (OS name
        ``pkprobe-<name>``, cut to 15 bytes); its ident is known as ours."""
        def run():
            ident = threading.get_ident()
            self._own.add(ident)
            _name_os_thread(f"pkprobe-{name}")
            try:
                target(*args)
            except Exception as e:
                self.error(name, f"thread died: {type(e).__name__}: {e}")
            finally:
                self._own.discard(ident)
        t = threading.Thread(target=run, name=f"{THREAD_PREFIX}-{name}", daemon=True)
        t.start()
        return t

    def own_idents(self):
        return set(self._own)

    def every(self, period_s, fn, name, delay=None):
        """Run ``fn()`` on the probe's sampler thread every ``period_s`` seconds (or
        after the number of seconds ``fn`` returns, when it returns one)."""
        first = period_s if delay is None else delay
        self._jobs.append([time.monotonic() + first, period_s, fn, name, period_s])
        if self._sampler is None:
            self._sampler = self.spawn("sampler", self._sample_loop)
        self._wake.set()

    def _sample_loop(self):
        """Run the due jobs, then sleep until the next one is due. A job due within
        ``COALESCE`` of its period runs early with the others: each wake-up of this
        thread costs the process ~150 µs of CPU on a VM whatever it does, so jobs of
        equal periods fall into step (the ``gc`` flush and the ``threads`` sample, one
        wake-up a second instead of two)."""
        pid = self.pid
        while pid == os.getpid() and self.running:
            now = time.monotonic()
            due = now + 60.0  # a new job, a reschedule, a detach or the exit set _wake
            for job in list(self._jobs):
                if job[0] <= now + COALESCE * job[4]:
                    job[0] = now + job[1]
                    later = self._run_job(job)
                    job[4] = job[1]
                    if isinstance(later, (int, float)):
                        job[0] = now + later
                        job[4] = later
                due = min(due, job[0])
            self.flush()  # what the target's threads deferred, if no job wrote
            self._wake.wait(max(0.0, due - time.monotonic()))
            self._wake.clear()

    def reschedule(self, name, delay):
        """Make job ``name`` due in ``delay`` seconds (sooner only), from any thread."""
        due = time.monotonic() + delay
        for job in self._jobs:
            if job[3] == name and job[0] > due:
                job[0] = due
                self._wake.set()

    def _run_job(self, job):
        try:
            return job[2]()
        except Exception as e:
            self.error(job[3], f"{type(e).__name__}: {e}")
            if job in self._jobs:
                self._jobs.remove(job)

    # -- fork and exit ----------------------------------------------------------
    def on_fork(self, fn):
        self._on_fork.append(fn)

    def on_exit(self, fn):
        self._on_exit.append(fn)

    def after_fork_child(self):
        """A forked child: its own file, its own sampler thread, features re-armed."""
        if self.writer is not None:
            self.writer.abandon()
        self.pid = os.getpid()
        self.forked = True
        self._own = set()
        self._wake = threading.Event()
        self._sampler = None
        self.open()
        for name in self.started:
            self.write({"type": "feature", "feature": name, "state": "started"})
        for fn in list(self._on_fork):
            try:
                fn()
            except Exception as e:
                self.error("fork", f"{type(e).__name__}: {e}")
        if self._jobs:
            self._sampler = self.spawn("sampler", self._sample_loop)

    def shutdown(self):
        if os.getpid() != self.pid or self.writer is None:
            return
        for fn in reversed(self._on_exit):
            try:
                fn()
            except Exception as e:
                self.error("exit", f"{type(e).__name__}: {e}")
        self.write({"type": "exit"})
        self._jobs = []
        self._wake.set()
