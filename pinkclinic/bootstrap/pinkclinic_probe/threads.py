"""Feature ``threads``: the target's Python threads, sampled every ``threads_ms`` (1000).

``n`` and ``names`` leave out the probe's own threads (named ``pinkclinic-probe-*``),
which are counted in ``probe_n``; ``os_n`` counts every OS thread of the process,
native ones included (from ``/proc/self/task``, absent elsewhere).
"""
import os
import threading


def _sample(probe):
    own = probe.own_idents()
    names = sorted(t.name for t in threading.enumerate() if t.ident not in own)
    rec = {"type": "threads", "n": len(names), "names": names, "probe_n": len(own)}
    try:
        rec["os_n"] = len(os.listdir("/proc/self/task"))
    except OSError:
        pass
    probe.write(rec)


def install(probe):
    period = probe.opt("threads_ms", 1000) / 1000.0
    probe.every(period, lambda: _sample(probe), "threads", delay=0.05)
    return {"threads_ms": period * 1000}
