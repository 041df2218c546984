"""How much a thread wanted the CPU, readable from another thread.

``reader_for_current_thread()`` is called *in* the thread to be measured and returns a
zero-argument function, callable from any thread of the process, that gives
``(cpu_s, wait_s)``: seconds the thread ran on a CPU, and seconds it was runnable but
waiting for one (``None`` when unknown). Both count as "on-CPU" for a stalled loop: a
busy loop thread on a loaded machine is often preempted, and is still computing.

Sources, best first:
- ``/proc/self/task/<tid>/schedstat`` (Linux): ns on CPU and ns on the run queue,
  re-read with ``pread`` on a kept-open descriptor (one syscall);
- the thread's POSIX CPU clock (``time.pthread_getcpuclockid``): CPU time only.
A reader raises ``OSError`` once its thread is gone; ``close()`` frees the descriptor.
``raw()`` is the cheap half of a read (the bytes, or the clock's value: about 1 µs) for
code that reads on every tick and looks only at a few readings; ``parse(raw)`` gives
``(cpu_s, wait_s)`` from it.
"""
import os
import threading
import time


class _Schedstat:
    def __init__(self, tid):
        self.fd = os.open(f"/proc/self/task/{tid}/schedstat",
                          os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        self()

    def __call__(self):
        return self.parse(os.pread(self.fd, 128, 0))

    def raw(self):
        return os.pread(self.fd, 128, 0)

    @staticmethod
    def parse(raw):
        fields = raw.split()
        return int(fields[0]) / 1e9, int(fields[1]) / 1e9

    def close(self):
        fd, self.fd = self.fd, -1
        if fd >= 0:
            os.close(fd)


class _CpuClock:
    def __init__(self):
        self.clock = time.pthread_getcpuclockid(threading.get_ident())
        self()

    def __call__(self):
        return time.clock_gettime(self.clock), None

    def raw(self):
        return time.clock_gettime(self.clock)

    @staticmethod
    def parse(raw):
        return raw, None

    def close(self):
        pass


def reader_for_current_thread():
    try:
        return _Schedstat(threading.get_native_id())
    except (AttributeError, OSError, ValueError, IndexError):
        pass
    try:
        return _CpuClock()
    except (AttributeError, OSError, OverflowError):
        return None
