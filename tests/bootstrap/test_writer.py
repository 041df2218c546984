"""The probe's record file (``_core.Writer``): a record deferred on a target's thread
costs no system call there, and reaches the file, in order, with the next write or
flush; a forked child never writes what its parent deferred."""

from __future__ import annotations

import json
import os
import sys
import threading

from pinkclinic.resources import BOOTSTRAP_DIR

sys.path.insert(0, str(BOOTSTRAP_DIR))
from pinkclinic_probe import _core


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_deferred_records_wait_for_the_next_write_and_keep_their_order(tmp_path):
    path = tmp_path / "probe.jsonl"
    w = _core.Writer(str(path), {"stream": "probe"})
    w.defer({"n": 1})
    w.defer({"n": 2})
    assert lines(path) == [{"stream": "probe"}]  # nothing written yet
    w.write({"n": 3})
    assert [r.get("n") for r in lines(path)] == [None, 1, 2, 3]
    w.defer({"n": 4})
    w.defer({"bad": float("nan")})  # not JSON: dropped, as write drops it
    w.close()  # flushes
    assert [r.get("n") for r in lines(path)] == [None, 1, 2, 3, 4]


def test_a_thread_that_defers_never_waits_for_a_write_in_progress(tmp_path):
    """The write lock is held across ``os.write``; ``defer`` does not take it, so a
    writer stuck on a busy disk cannot stall the thread that defers."""
    w = _core.Writer(str(tmp_path / "probe.jsonl"), {"stream": "probe"})
    with w._lock:  # a probe thread in the middle of a slow write
        done = threading.Event()
        t = threading.Thread(target=lambda: (w.defer({"n": 1}), done.set()))
        t.start()
        assert done.wait(10)
        t.join()
    w.flush()
    assert [r.get("n") for r in lines(tmp_path / "probe.jsonl")] == [None, 1]


def test_unflushed_records_write_themselves_past_max_pending(tmp_path):
    path = tmp_path / "probe.jsonl"
    w = _core.Writer(str(path), {"stream": "probe"})
    for n in range(_core.MAX_PENDING):
        w.defer({"n": n})
    assert len(lines(path)) == 1 + _core.MAX_PENDING


def test_a_forked_child_drops_what_its_parent_deferred(tmp_path):
    path = tmp_path / "probe.jsonl"
    w = _core.Writer(str(path), {"stream": "probe"})
    w.defer({"n": 1})
    pid = os.fork()
    if pid == 0:
        w.abandon()
        w.flush()
        os._exit(0)
    os.waitpid(pid, 0)
    assert lines(path) == [{"stream": "probe"}]
    w.flush()
    assert [r.get("n") for r in lines(path)] == [None, 1]
