"""GIL contention told from a CPU shortage, on synthetic recordings: each thread's time
split (on a CPU, on the run queue, in the GIL's futex, other waits), the thresholds of
gil-contention and of saturation from both sides, usable cores, and the verdict text."""

import pytest

from pinkclinic.analysis import gil, saturation
from pinkclinic.analysis.finding import ISSUE, NONE
from pinkclinic.analysis.thread_time import culprits, split
from tests.synth import COND_WAIT, LOOP_IDLE, STDLIB, THREAD_RUN, Synth, frame, spy_thread

SCORE = [THREAD_RUN, frame("score_candidates", 29)]
DIGEST = [THREAD_RUN, frame("checksum_upload", 23)]
LOCKED = [THREAD_RUN, frame("with_lock", 40), COND_WAIT]
TWO = {"machine": 2, "affinity": 2, "cgroup_quota": None, "cgroup_file": None, "usable": 2}
TIDS = (101, 102, 103, 104)


def rec(tmp_path, *, on_cpu, runq, futex_of_rest=1.0, stack=SCORE, busy=1.0, n=4,
        cores=TWO, rps=100, p50_ms=40.0, throttled=None, stacks=None):
    """``n`` request threads, each ``on_cpu`` and ``runq`` of its time, the rest blocked
    (``futex_of_rest`` of it in futex); py-spy sees each ``busy`` of the time in
    ``stack`` (or each thread in ``stacks``: ``(stack, share)`` pairs). The main thread
    sleeps in a selector."""
    s = Synth(tmp_path, load_s=4)
    s.processes(pid=100, cores=on_cpu * n)
    s.load(rps=rps, p50_ms=p50_ms)
    tids = TIDS[:n]
    run = round(25 * (on_cpu + runq))
    futex = round((25 - run) * futex_of_rest)
    states = {t: (run, futex, 25 - run - futex) for t in tids}
    s.thread_states(100, {100: (0, 0, 25), **states},
                    sched={100: (0.0, 0.0), **{t: (on_cpu, runq) for t in tids}}, cores=cores,
                    throttled=throttled)
    idle = [(LOOP_IDLE, 1.0)]
    s.pyspy(spy_thread(100, 100, idle),
            *(spy_thread(100, t, stacks or ([(stack, busy), (LOCKED, 1 - busy)] if busy < 1
                                            else [(stack, 1.0)]),
                         name=f"Thread-{t}") for t in tids))
    return s


def test_the_split_adds_up_to_the_wall_time(tmp_path):
    s = rec(tmp_path, on_cpu=0.25, runq=0.05)
    p = split(s.data())[100]
    t = next(t for t in p.threads if t.tid == 101)
    assert t.wall_s == pytest.approx(p.seconds)
    assert t.on_cpu_s + t.runq_s + t.gil_s + t.lock_s + t.other_s == pytest.approx(t.wall_s, rel=1e-6)
    assert t.on_cpu_s == pytest.approx(0.25 * t.wall_s, rel=0.01)
    assert t.gil_s == pytest.approx(0.7 * t.wall_s, rel=0.05)  # busy in py-spy, futex in /proc
    assert t.lock_s == pytest.approx(0.0, abs=0.05)


def test_pure_python_threads_wait_for_the_gil(tmp_path):
    s = rec(tmp_path, on_cpu=0.25, runq=0.05)
    f = gil.analyse(s.data())
    assert f.status == ISSUE and f.category == "gil-contention"
    assert f.evidence["gil_share"] == pytest.approx(0.7 / 0.95, abs=0.03)  # gil / (cpu + gil)
    assert f.evidence["cpu_cores"] == pytest.approx(1.0, abs=0.02)
    assert f.culprits and f.culprits[0].function == "score_candidates"
    assert ("waiting for the GIL took 74% of the time they ran or waited for it; waiting for a "
            "core, 5% of the time they wanted to run") in f.summary
    d = s.diagnose()
    assert d["verdict"] == "gil-contention"
    assert d["issues"][0]["culprits"][0]["function"] == "score_candidates"


SEND = [THREAD_RUN, frame("do_GET", 48), ["BaseHTTPRequestHandler.end_headers",
                                           f"{STDLIB}/http/server.py", 538],
        ["_SocketWriter.write", f"{STDLIB}/socketserver.py", 840]]


def test_the_culprits_hold_the_gil_not_wait_for_it_after_a_send(tmp_path):
    """py-spy counts a thread on the run queue as busy: with a core taken, the threads
    back from the headers' send, waiting for the GIL, were about half the busy samples
    (do_GET via end_headers came out first in one CI run). Only the code that may hold
    the GIL is named; the code that held a CPU (saturation's culprits) keeps both."""
    s = rec(tmp_path, on_cpu=0.25, runq=0.05, stacks=[(SCORE, 0.4), (SEND, 0.6)])
    f = gil.analyse(s.data())
    assert f.category == "gil-contention", f.summary
    assert [(c.function, c.share) for c in f.culprits] == [("score_candidates", 1.0)]
    on_cpu = culprits(s.data(), split(s.data())[100].threads)
    assert [(c.function, round(c.share, 2)) for c in on_cpu] == [("do_GET", 0.6),
                                                                  ("score_candidates", 0.4)]


def test_on_a_loaded_machine_the_gil_waits_still_count(tmp_path):
    """Other processes hold the cores: every thread spends most of its time on the run
    queue, the GIL's waiters too. Of the rest, the GIL still takes the most."""
    s = rec(tmp_path, on_cpu=0.06, runq=0.6)
    f = gil.analyse(s.data())
    assert f.evidence["runq_share"] == pytest.approx(0.6, abs=0.02) and f.evidence["gil_share"] > 0.8
    assert f.status == ISSUE and f.category == "gil-contention"
    assert s.diagnose()["verdict"] == "gil-contention"


def test_threads_on_the_run_queue_are_not_gil_contention(tmp_path):
    """C code that releases the GIL: 4 threads on 2 cores, each half on a CPU, half
    waiting for one; py-spy sees them all busy (the old estimate's GIL contention)."""
    s = rec(tmp_path, on_cpu=0.5, runq=0.45, futex_of_rest=0.0, stack=DIGEST)
    f = gil.analyse(s.data())
    assert f.status == NONE and f.evidence["gil_share"] < 0.05
    assert f.evidence["runq_share"] == pytest.approx(0.47, abs=0.02)
    sat = saturation.analyse(s.data())
    assert sat.evidence["saturated"] and sat.culprits[0].function == "checksum_upload"
    d = s.diagnose()
    assert d["verdict"] == "healthy"
    assert ("the 2 usable cores were saturated: 4 threads running checksum_upload() "
            "waited 47% of the time for a core (the process used 2.00 cores)") in d["summary"]
    assert d["saturation"]["culprits"][0]["function"] == "checksum_upload"
    assert "more cores" in d["recommendation"] and "processes" in d["recommendation"]
    assert "run CPU-bound work in processes" not in d["recommendation"]


def test_lock_waits_are_not_the_gil(tmp_path):
    """Threads blocked on a lock: futex, but py-spy shows them in Condition.wait (idle)."""
    s = rec(tmp_path, on_cpu=0.2, runq=0.0, busy=0.2)
    p = split(s.data())[100]
    t = p.threads[0]
    assert t.gil_s == pytest.approx(0.0, abs=0.02 * t.wall_s)
    assert t.lock_s == pytest.approx(0.8 * t.wall_s, rel=0.05)
    assert gil.analyse(s.data()).status == NONE


@pytest.mark.parametrize("side, status", [(0.9, NONE), (1.1, ISSUE)])
def test_gil_share_threshold(tmp_path, side, status):
    share = gil.GIL_SHARE * side
    on_cpu = 0.5
    # gil / (on_cpu + gil) = share, all of the rest of the time in futex and busy in py-spy
    g = share * on_cpu / (1 - share)
    s = rec(tmp_path, on_cpu=on_cpu, runq=0.0, busy=on_cpu + g)
    f = gil.analyse(s.data())
    assert f.evidence["gil_share"] == pytest.approx(share, abs=0.01)
    assert f.status == status


@pytest.mark.parametrize("source, cores, text", [
    ("affinity", {"machine": 2, "affinity": 1, "cgroup_quota": None, "cgroup_file": None,
                  "usable": 1}, "the 1 usable core (CPU affinity; the machine has 2) was saturated"),
    ("cgroup", {"machine": 2, "affinity": 2, "cgroup_quota": 1.0, "usable": 1,
                "cgroup_file": "/sys/fs/cgroup/x/cpu.max"},
     "the 1 usable core (cgroup CPU quota; the machine has 2) was saturated"),
])
def test_one_usable_core_is_saturation_not_the_gil(tmp_path, source, cores, text):
    """Pure-Python threads on one usable core wait for the GIL, but more processes
    could not run: the core is the limit."""
    s = rec(tmp_path, on_cpu=0.25, runq=0.05, cores=cores)
    f = gil.analyse(s.data())
    assert f.evidence["gil_share"] > 0.5 and f.evidence["usable_cores"] == 1
    assert f.status == NONE
    d = s.diagnose()
    assert d["verdict"] == "healthy" and text in d["summary"], d["summary"]
    assert "70% for the GIL" in d["summary"]


QUOTA = {"machine": 2, "affinity": 2, "cgroup_quota": 1.0, "usable": 1,
         "cgroup_file": "/sys/fs/cgroup/x/cpu.max"}


@pytest.mark.parametrize("on_cpu, throttled, saturated", [
    (0.24, 1.2 * saturation.THROTTLED_SHARE, True),
    (0.24, 0.8 * saturation.THROTTLED_SHARE, False),
    (0.15, 0.9, False),  # bursts hit the quota, but it used 0.6 of it: not full
])
def test_a_quota_that_stopped_the_process_is_saturation(tmp_path, on_cpu, throttled, saturated):
    """Four threads near one core's quota, few of them on the run queue (the rest of the
    time in other calls): the run queue alone would not say it, the kernel's count of
    throttled periods does, when the process also used most of the quota."""
    s = rec(tmp_path, on_cpu=on_cpu, runq=0.02, futex_of_rest=0.0, stack=DIGEST,
            cores=QUOTA, throttled=throttled)
    f = saturation.analyse(s.data())
    assert f.evidence["runq_threads"] < saturation.RUNQ_THREADS
    assert f.evidence["wanting_threads"] < 1 + saturation.MORE_THREADS
    assert f.evidence["throttle"]["share"] == pytest.approx(throttled, abs=0.05)
    assert f.evidence["saturated"] is saturated, f.summary
    if saturated:
        share = round(100 * f.evidence["throttle"]["share"])
        assert f.summary.endswith(f"its cgroup's CPU quota stopped it in {share}% of the "
                                  "quota's periods"), f.summary
        assert "was saturated" in s.diagnose()["summary"]


def test_throttling_counts_only_where_the_quota_is_the_limit(tmp_path):
    """A quota of 1.5 cores behind an affinity of one core: the core, not the quota,
    limits the process, and the quota's counters are not the evidence."""
    cores = {**QUOTA, "affinity": 1, "cgroup_quota": 1.5}
    s = rec(tmp_path, on_cpu=0.24, runq=0.02, futex_of_rest=0.0, stack=DIGEST,
            cores=cores, throttled=0.9)
    assert saturation.analyse(s.data()).evidence["saturated"] is False


@pytest.mark.parametrize("side, saturated", [(0.9, False), (1.1, True)])
def test_run_queue_share_threshold(tmp_path, side, saturated):
    share = saturation.RUNQ_SHARE * side
    on_cpu = 0.45  # 4 threads at 0.45: 1.8 cores of 2, not full; 2.2 runnable threads
    runq = share * on_cpu / (1 - share)
    s = rec(tmp_path, on_cpu=on_cpu, runq=runq, futex_of_rest=0.0, stack=DIGEST, busy=on_cpu + runq)
    f = saturation.analyse(s.data())
    assert f.evidence["runq_share"] == pytest.approx(share, abs=0.01)
    assert f.evidence["saturated"] is saturated
    d = s.diagnose()
    assert ("saturated" in d["summary"]) is saturated
    assert d["saturation"] is None or saturated


def test_a_saturated_server_is_not_io_wait(tmp_path):
    """Idle CPU, slow answers: but the threads waited for a core (other processes held
    them), not on anything outside."""
    s = rec(tmp_path, on_cpu=0.1, runq=0.5, futex_of_rest=0.0, stack=DIGEST, p50_ms=200)
    d = s.diagnose()
    io = next(f for f in d["findings"] if f["signal"] == "io")
    assert io["status"] == ISSUE  # on CPU alone it would read as io-wait
    assert d["verdict"] == "healthy", d["summary"]
    assert "other processes held the rest" in d["summary"]


def test_one_thread_kept_waiting_by_other_processes_is_not_saturation(tmp_path):
    """A shared machine delays a single-threaded server, but it has fewer runnable
    threads than cores: its cores are not what it outgrew."""
    s = rec(tmp_path, on_cpu=0.5, runq=0.4, futex_of_rest=0.0, stack=DIGEST, n=1)
    f = saturation.analyse(s.data())
    assert f.evidence["runq_share"] > 0.4 and not f.evidence["saturated"]
    assert "saturated" not in s.diagnose()["summary"]


def test_a_server_starved_by_other_processes_is_said_so(tmp_path):
    """One thread, 75% of its wanting time on the run queue: the machine's load, not the
    server's code. It stays io-wait if that is what the rest says (an event loop waiting
    on an upstream and one waiting for work look the same from outside), with a warning."""
    s = rec(tmp_path, on_cpu=0.1, runq=0.3, futex_of_rest=0.0, stack=DIGEST, busy=0.4,
            p50_ms=200, n=1)
    f = saturation.analyse(s.data())
    assert f.evidence["starved"] and not f.evidence["saturated"]
    d = s.diagnose()
    assert d["verdict"] == "io-wait", d["summary"]
    assert any("other processes held the cores: 1 thread running checksum_upload()" in w
               for w in d["warnings"])
    assert d["saturation"]["category"] == "cpu-starved"
    assert "taskset" in d["saturation"]["recommendation"]


def test_threads_blocked_on_an_upstream_are_io_wait_even_on_a_loaded_machine(tmp_path):
    """The same thread, but py-spy sees it busy in a call the rest of the time (an
    upstream's recv): more waiting on the call than for a core."""
    s = rec(tmp_path, on_cpu=0.1, runq=0.3, futex_of_rest=0.0, stack=DIGEST, p50_ms=200, n=1)
    f = saturation.analyse(s.data())
    assert f.evidence["io_threads"] > f.evidence["runq_threads"] and not f.evidence["starved"]
    assert s.diagnose()["verdict"] == "io-wait"


def test_the_processes_of_a_tree_share_the_cores(tmp_path):
    """gunicorn -w 3: one hashing thread per worker, three workers on two cores."""
    s = Synth(tmp_path, load_s=4)
    s.load(p50_ms=40.0)
    for pid in (200, 201, 202):
        s.processes(pid=pid, ppid=100, cores=0.6)
        s.thread_states(pid, {pid: (25, 0, 0)}, sched={pid: (0.6, 0.35)}, cores=TWO)
    s.pyspy(*(spy_thread(pid, pid, [(DIGEST, 1.0)]) for pid in (200, 201, 202)))
    f = saturation.analyse(s.data())
    assert f.evidence["saturated"] and f.evidence["processes"] == [200, 201, 202]
    assert "3 threads running checksum_upload()" in f.summary
    assert "(the 3 processes used 1.80 cores)" in f.summary


def test_without_schedstat_the_old_estimate_stands(tmp_path):
    """A schema-1 recording: no run-queue times, the estimate from py-spy and CPU."""
    s = Synth(tmp_path, load_s=4)
    s.processes(pid=100, cores=1.0)
    s.load()
    s.thread_states(100, {t: (10, 15, 0) for t in TIDS})
    s.pyspy(*(spy_thread(100, t, [(SCORE, 1.0)]) for t in TIDS))
    assert split(s.data()) is None
    f = gil.analyse(s.data())
    assert f.status == ISSUE and "gil_share" not in f.evidence
    assert saturation.analyse(s.data()).evidence.get("saturated") is None


@pytest.mark.parametrize("kind, status", [("lock", NONE), ("ready", ISSUE)])
def test_threads_the_probe_saw_in_a_with_lock_are_not_the_gil(tmp_path, kind, status):
    """Threads blocked in ``with lock:`` on a threading.Lock: futex in /proc, and busy in
    py-spy (the C-level acquire has no frame of its own), like GIL waiters. The probe's
    thread snapshots read the instruction: ``lock`` moves that time from the GIL to locks;
    ``ready`` (a thread in futex elsewhere: the GIL) keeps it."""
    waiting = [THREAD_RUN, frame("fetch_account", 30)]
    s = rec(tmp_path, on_cpu=0.1, runq=0.0, stack=waiting)
    p = s.probe(pid=100)
    for t in s.times(0.05):
        p.record("waits", t=t, v=2, source="threads", thread_id=0, n=4, walked=4, dt_ms=50.0,
                 dur_ms=0.1, other=0, stacks=[[waiting, 4]],
                 leaves=[{"kind": kind, "resource": "threading.Lock" if kind == "lock" else ""}])
    t = split(s.data())[100].threads[0]
    held = t.lock_s if kind == "lock" else t.gil_s
    assert held == pytest.approx(0.9 * t.wall_s, rel=0.05)
    assert t.on_cpu_s + t.runq_s + t.gil_s + t.lock_s + t.other_s == pytest.approx(t.wall_s, rel=1e-6)
    assert gil.analyse(s.data()).status == status


def test_threads_queued_on_a_lock_the_snapshots_see_are_lock_contention_not_gil(tmp_path):
    """A thread blocked in ``with lock:`` sits in a futex with its own code on top, which
    is how a GIL wait looks from outside; the thread snapshots see the lock, so its time is
    the lock's and lock-contention is the verdict. Without the snapshots they are GIL waits."""
    from tests.analysis.test_waits import WORKER, leaf, thread_records
    from tests.synth import SITE_FRAME

    s = rec(tmp_path, on_cpu=0.25, runq=0.05, stack=[THREAD_RUN, frame("fetch_account", 19)])
    assert gil.analyse(s.data()).status == ISSUE  # seen from outside alone
    view = [*WORKER, SITE_FRAME, frame("fetch_account", 19)]
    thread_records(s, s.probe(pid=100), [(view, 3, leaf("lock", "threading.Lock")),
                                         ([*view[:-1], frame("fetch_account", 20)], 1, leaf("sleep"))])
    d = s.diagnose()
    assert d["verdict"] == "lock-contention", d["summary"]
    assert "gil-contention" not in [i["category"] for i in d["issues"]]
