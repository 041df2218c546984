"""Ctrl-C during ``pinkclinic bench``: the first stops the run and the results print;
a second (``timeout -s INT`` sends two) is ignored until they are out; a third exits
at once. Never a traceback. And a load worker that dies does not lose the others' results."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import psutil
import pytest

from tests.helpers import pinkclinic_cmd


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(pinkclinic_cmd("bench", "-n", *args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_requests(s, proc, more_than: int = 50) -> None:
    """Wait until the server has counted ``more_than`` requests since this was called
    (so the load, and its signal handler, are running)."""
    at_least = s.counts()["requests"] + more_than
    deadline = time.monotonic() + 30
    while s.counts()["requests"] < at_least:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no load arrived"
        time.sleep(0.05)


@pytest.mark.parametrize("workers", ["0", "2"])
def test_two_sigints_still_print_the_results(serve, workers):
    s = serve("count")
    for _ in range(3):  # the race that lost results was intermittent
        proc = start("-d", "30", "-c", "4", "-w", workers, "-j", s.url)
        wait_for_requests(s, proc)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        j = json.loads(out)
        assert j["interrupted"] is True and j["requests"]["total"] > 0
        assert "Traceback" not in err and "Fatal error" not in err, err


def workers_of(proc) -> list[psutil.Process]:
    return [p for p in psutil.Process(proc.pid).children()
            if "pinkclinic.load.http1.workers_child" in " ".join(p.cmdline())]


def test_a_third_sigint_exits_at_once_without_a_traceback(serve):
    # a stopped (hung) worker keeps the results from ever coming: the third Ctrl-C gets out
    s = serve("count")
    proc = start("-d", "30", "-c", "4", "-w", "1", s.url)
    wait_for_requests(s, proc)
    (worker,) = workers_of(proc)
    worker.suspend()
    try:
        for _ in range(3):
            proc.send_signal(signal.SIGINT)
            time.sleep(0.2)
        out, err = proc.communicate(timeout=30)
    finally:
        worker.kill()
        worker.wait(10)
    assert proc.returncode == 130, err
    assert "exiting without the results" in err
    assert "requests in" not in out
    assert "Traceback" not in err and "Fatal error" not in err, err


def test_interrupted_before_any_response_exits_130(serve):
    s = serve("stall")
    proc = start("-d", "30", "-c", "2", s.url)
    assert proc.stdout.readline().startswith("Running 30s test")  # the handler is installed
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "0 requests in" in out and "interrupted after" in out
    assert "Traceback" not in err


def test_a_killed_worker_loses_only_its_own_results(serve):
    s = serve("count")
    proc = start("-d", "3", "-c", "4", "-w", "2", "-j", s.url)
    wait_for_requests(s, proc, 200)
    kids = workers_of(proc)
    assert len(kids) == 2
    victim = kids[1]
    victim.kill()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    j = json.loads(out)
    assert j["requests"]["total"] > 0
    assert j["requests"]["total"] <= s.counts()["requests"]
    assert len(j["workerFailures"]) == 1
    failure = j["workerFailures"][0]
    assert "SIGKILL" in failure and "load worker" in failure
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pinkclinic: error: load worker"), err
    assert "SIGKILL" in lines[0] and "Traceback" not in err
