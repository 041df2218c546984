"""doctor tells GIL contention from a CPU shortage, on a real threaded server
(samples/saturated_threads.py: a thread per connection, more connections than cores).

* hashlib releases the GIL: the threads wait for a core, and doctor says the cores were
  saturated, not gil-contention;
* pure-Python work holds the GIL: gil-contention, with the loop as culprit;
* one usable core (a cgroup CPU quota the test makes, or ``taskset`` where it cannot):
  saturated on that one core.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.cgroup import cpu_quota
from tests.commands.culprit_stacks import check_culprits
from tests.commands.test_doctor_samples import run_doctor
from tests.helpers import SAMPLES

SERVER = [sys.executable, str(SAMPLES / "saturated_threads.py")]
LOAD = "-c 6 -d 2.5"


def doctor(tmp_path, name, path, command=SERVER):
    proc, rec = run_doctor(tmp_path, name, command, "--load", f"{LOAD} {path}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    d = json.loads((rec / "diagnosis.json").read_text())
    check_culprits(d, rec)  # gil-contention's and the saturation's culprits too
    findings = {f["signal"]: f for f in d["findings"]}
    return proc, d, findings


def test_threads_releasing_the_gil_saturate_the_cores(tmp_path):
    """Six threads hashing with the GIL released, on one core of their own: more runnable
    threads than cores whatever else the machine runs (unpinned on a quiet 2-core machine
    the load generator holds the other core and the server's threads wanted only ~1.5)."""
    core = max(os.sched_getaffinity(0))
    proc, d, f = doctor(tmp_path, "digest", "/digest", ["taskset", "-c", str(core), *SERVER])
    gil = f["gil"]["evidence"]
    assert d["verdict"] != "gil-contention", (d["summary"], gil)
    assert gil["gil_share"] < 0.1 and gil["runq_share"] > 0.2, gil
    assert d["verdict"] == "healthy", d["summary"]
    assert "was saturated" in d["summary"] and "checksum_upload()" in d["summary"], d["summary"]
    assert d["saturation"]["culprits"][0]["function"] == "checksum_upload"
    assert "holding the CPU:" in proc.stdout and "more cores" in proc.stdout
    html = (tmp_path / "digest.pinkclinic-doctor.html").read_text()
    assert "Saturated CPU cores" in html and "checksum_upload" in html


def test_pure_python_threads_contend_for_the_gil(tmp_path):
    """The culprit is the code that holds the GIL, score_candidates. py-spy counts the
    threads back from the headers' send, waiting to get the GIL, as busy: with a core
    taken they were half the samples, and do_GET (via end_headers) came out first in one
    CI run. The gil analyser leaves the samples in a call that releases the GIL out."""
    proc, d, f = doctor(tmp_path, "score", "/score")
    assert d["verdict"] == "gil-contention", (d["summary"], f["gil"]["evidence"])
    top = d["issues"][0]["culprits"]
    assert top[0]["function"] == "score_candidates" and top[0]["share"] >= 0.7, top
    assert "score_candidates" in proc.stdout


def test_one_usable_core_reads_as_saturated(tmp_path):
    core = max(os.sched_getaffinity(0))
    try:
        with cpu_quota(1.0) as procs:
            command = ["sh", "-c", f'echo $$ > {procs} && exec "$@"', "sh", *SERVER]
            _, d, f = doctor(tmp_path, "quota", "/digest", command)
            why = "cgroup CPU quota"
    except pytest.skip.Exception:
        _, d, f = doctor(tmp_path, "taskset", "/digest", ["taskset", "-c", str(core), *SERVER])
        why = "CPU affinity"
    assert d["verdict"] == "healthy", d["summary"]
    assert f"the 1 usable core ({why}; the machine has" in d["summary"], d["summary"]
    assert f["gil"]["evidence"]["usable_cores"] == 1
    if why == "cgroup CPU quota":  # the quota's counters came along; whether it ran out
        throttle = f["saturation"]["evidence"]["throttle"]  # depends on what else runs
        assert throttle["periods"] >= 10, throttle
