"""Wait sites and the verdicts that tell a slow backend (io-wait) from queueing inside
the process (pool-exhausted, lock-contention), on synthetic ``waits`` records (v2)."""

from __future__ import annotations

import pytest

from pinkclinic.analysis.waits import THREADS_ONLY, threads_only, wait_profile, waits_json
from pinkclinic.analysis.waits_verdict import IO_SHARE, QUEUE_SHARE, analyse
from tests.synth import SITE_FRAME, STDLIB, Synth, frame

EVERY = 0.05  # a snapshot every 50 ms
ACQUIRE = ["Semaphore.acquire", f"{STDLIB}/asyncio/locks.py", 387]
LOCK = ["Lock.acquire", f"{STDLIB}/asyncio/locks.py", 114]
SLEEP = ["sleep", f"{STDLIB}/asyncio/tasks.py", 649]
READ = ["StreamReader._wait_for_data", f"{STDLIB}/asyncio/streams.py", 543]


def request(*frames):
    """A request task: the framework's handler outermost, then the app's frames."""
    return [SITE_FRAME, frame("handler", 5), *frames]


def leaf(kind, resource="", **detail):
    return {"kind": kind, "resource": resource, **detail}


def recording(tmp_path, groups, *, p50_ms=50.0, cores=0.05, every=EVERY, load_s=4.0):
    """A recording whose loop, in every snapshot, has ``groups``: [(stack, count, leaf)]."""
    s = Synth(tmp_path, load_s=load_s)
    s.processes(pid=100, cores=cores)
    s.load(rps=100, p50_ms=p50_ms)
    p = s.probe(pid=100)
    p.loop()
    for t in s.times(every):
        p.record("waits", t=t, v=2, thread_id=100, n=sum(c for _, c, _ in groups),
                 walked=sum(c for _, c, _ in groups), dt_ms=every * 1000, dur_ms=0.1, other=0,
                 stacks=[[st, c] for st, c, _ in groups], leaves=[lf for _, _, lf in groups])
    return s


def pool(waiting, in_query=2):
    return [(request(frame("get_orders", 24), ["_ContextManagerMixin.__aenter__",
                                               f"{STDLIB}/asyncio/locks.py", 15], ACQUIRE),
             waiting, leaf("semaphore", "asyncio.Semaphore@7f01", value=0, waiters=waiting)),
            (request(frame("get_orders", 25), frame("run_query", 19), SLEEP), in_query,
             leaf("sleep"))]


def test_a_semaphore_in_front_of_a_backend_is_a_pool_with_its_share_and_waiters(tmp_path):
    s = recording(tmp_path, pool(8))
    f = analyse(s.data())
    assert f.category == "pool-exhausted", f.summary
    top = f.culprits[0]
    assert (top.function, top.line, top.extra["kind"]) == ("get_orders", 24, "semaphore")
    assert top.extra["via"]["function"] == "_ContextManagerMixin.__aenter__"  # async with pool
    assert top.extra["resource"] == "asyncio.Semaphore #1"  # not an address
    # 8 of 10 tasks, less the little CPU time the snapshots cannot see
    assert 0.75 < top.share < 0.8 and top.extra["mean_waiters"] == pytest.approx(8, abs=0.3)
    assert top.extra["max_waiters"] == 8
    # 2 tasks are past the acquire, in run_query: the semaphore's size in use, always full
    assert top.extra["holders"] == pytest.approx(2, abs=0.1) and "pool of 2 is always full" in f.summary
    assert "80%" in f.summary or "79%" in f.summary or "78%" in f.summary
    assert s.diagnose()["verdict"] == "pool-exhausted"


@pytest.mark.parametrize("waiting,issue", [(1, False), (2, True)])
def test_the_pool_threshold_from_both_sides(tmp_path, waiting, issue):
    # 1 waiting of 3: 33% < QUEUE_SHARE; 2 of 4: 50% >= QUEUE_SHARE
    assert 1 / 3 < QUEUE_SHARE <= 2 / 4 * 0.98
    f = analyse(recording(tmp_path, pool(waiting), cores=0.01).data())
    assert (f.category == "pool-exhausted") is issue, f.summary


def test_requests_serialised_on_a_lock_are_lock_contention_not_io_wait(tmp_path):
    groups = [(request(frame("current_token", 24), LOCK), 9, leaf("lock", "asyncio.Lock@1", waiters=9)),
              (request(frame("current_token", 25), frame("refresh", 19), SLEEP), 1, leaf("sleep"))]
    s = recording(tmp_path, groups, p50_ms=110)
    d = s.diagnose()
    assert d["verdict"] == "lock-contention", d["summary"]
    top = d["issues"][0]["culprits"][0]
    assert top["function"] == "current_token"
    # like every culprit: the user's frame, the library call it waits in as its via
    assert top["via"] == {"function": "Lock.acquire", "file": LOCK[1], "line": 114}
    # one holder at a time at 100 requests/s: held 10 ms per request (Little's law)
    assert top["held_ms"] == pytest.approx(10, abs=0.5) and "held about 10 ms" in d["summary"]
    assert "lock's scope" in d["recommendation"] or "lock" in d["recommendation"]
    assert all(i["category"] != "io-wait" for i in d["issues"])  # the io analyser's guess is dropped


def test_a_slow_upstream_is_io_wait_naming_its_address_whatever_the_cpu(tmp_path):
    groups = [(request(frame("fetch_price", 35), READ), 8, leaf("socket", "127.0.0.1:5432"))]
    s = recording(tmp_path, groups, p50_ms=24, cores=0.7)  # busy: the io analyser says healthy
    d = s.diagnose()
    assert d["verdict"] == "io-wait", d["summary"]
    assert "127.0.0.1:5432" in d["summary"] and "fetch_price" in d["summary"]
    assert d["issues"][0]["culprits"][0]["resource"] == "127.0.0.1:5432"
    assert IO_SHARE <= 8 / (8 + 0.7)


def test_tiny_waits_on_a_fast_server_are_no_verdict(tmp_path):
    groups = [(request(frame("fetch_price", 35), READ), 2, leaf("socket", "127.0.0.1:5432"))]
    d = recording(tmp_path, groups, p50_ms=2.0, cores=0.3).diagnose()
    assert d["verdict"] == "healthy", d["summary"]


def test_a_cpu_bound_server_s_ready_tasks_are_no_wait_verdict(tmp_path):
    groups = [(request(frame("render", 40)), 9, leaf("ready")),
              (request(frame("fetch", 35), READ), 1, leaf("socket", "127.0.0.1:6379"))]
    f = analyse(recording(tmp_path, groups, p50_ms=60, cores=1.0).data())
    assert f.status == "none", f.summary
    assert f.evidence["shares"]["cpu"] > 0.5


def test_a_background_task_asleep_forever_is_never_a_site(tmp_path):
    heartbeat = [frame("heartbeat", 50), SLEEP]  # the app's own task, always there, alone
    groups = [(heartbeat, 1, leaf("sleep")),
              (request(frame("fetch", 35), READ), 1, leaf("socket", "127.0.0.1:6379"))]
    s = recording(tmp_path, groups, p50_ms=2.0)
    profile = wait_profile(s.data())
    assert [x.function for x in profile.sites] == ["fetch"]
    assert [x.function for x in profile.background] == ["heartbeat"]
    assert s.diagnose()["verdict"] == "healthy"


def test_tasks_parked_in_the_framework_are_not_requests(tmp_path):
    idle = [SITE_FRAME, ["RequestHandler.start", "/usr/lib/python3/dist-packages/aiohttp/web_protocol.py", 600]]
    groups = [(idle, 20, leaf("other", "Future")),
              (request(frame("fetch", 35), READ), 5, leaf("socket", "127.0.0.1:6379"))]
    profile = wait_profile(recording(tmp_path, groups, cores=0.0).data())
    assert [x.function for x in profile.sites] == ["fetch"]
    assert profile.sites[0].share == pytest.approx(1.0)


def test_the_users_main_awaiting_serve_forever_is_never_a_site(tmp_path):
    """A task that serves no request (issue 14): the app's own ``main`` awaiting asyncio's
    accept loop. It is there in every snapshot, but it is no background task either."""
    serve = [frame("main", 80), ["Server.serve_forever", f"{STDLIB}/asyncio/base_events.py", 369]]
    groups = [(serve, 2, leaf("other", "Future")),  # two listening sockets: twice at once
              (request(frame("fetch", 35), READ), 5, leaf("socket", "127.0.0.1:6379"))]
    profile = wait_profile(recording(tmp_path, groups, cores=0.0).data())
    assert [x.function for x in profile.sites] == ["fetch"] and profile.background == []


def test_waits_json_sorts_sites_and_keeps_chains_timeline_flame_and_tree(tmp_path):
    other = (request(frame("other_sem", 70), ACQUIRE), 1, leaf("semaphore", "asyncio.Semaphore@7f02"))
    s = recording(tmp_path, [*pool(6, 2), other])
    out = waits_json(wait_profile(s.data()))
    assert out["schema_version"] == 1
    shares = [x["share"] for x in out["sites"]]
    assert shares == sorted(shares, reverse=True)
    assert [x["resource"] for x in out["sites"] if x["kind"] == "semaphore"] == [
        "asyncio.Semaphore #1", "asyncio.Semaphore #2"]
    top = out["sites"][0]
    assert [f[0] for f in top["stack"]][:3] == ["Router.__call__", "handler", "get_orders"]
    assert top["via"]["function"] == "_ContextManagerMixin.__aenter__"  # as its culprit's
    assert next(x for x in out["sites"] if x["function"] == "run_query")["via"]["function"] == "sleep"
    assert top["timeline"] and all(v == pytest.approx(6, abs=0.01) for v in top["timeline"][1:-1])
    assert out["flame"]["value"] == pytest.approx(sum(x["task_seconds"] for x in out["sites"]), rel=1e-3)
    assert out["worst"]["tasks"] == 9 and out["worst"]["tree"]["children"][0]["name"] == "Router.__call__"
    assert set(out["split"]) == {"semaphore", "sleep", "cpu"}


def test_old_records_without_leaves_leave_the_signal_missing_not_wrong(tmp_path):
    s = Synth(tmp_path, load_s=4.0)
    s.processes(pid=100, cores=0.05)
    s.load(rps=100, p50_ms=50)
    p = s.probe(pid=100)
    p.tasks(5)
    p.waits([(request(frame("fetch", 35), READ), 5)])  # v1: no leaves
    f = analyse(s.data())
    assert f.status == "insufficient-data" and f.missing == ["waits"]
    assert s.diagnose()["verdict"] == "io-wait"  # the io analyser still says what it can


BOOT = [["Thread._bootstrap", f"{STDLIB}/threading.py", 995], ["Thread.run", f"{STDLIB}/threading.py", 982]]
WORKER = [*BOOT, ["_worker", f"{STDLIB}/concurrent/futures/thread.py", 83]]


def thread_records(s, p, groups, every=EVERY):
    for t in s.times(every):
        p.record("waits", t=t, v=2, source="threads", thread_id=0, n=sum(c for _, c, _ in groups),
                 walked=sum(c for _, c, _ in groups), dt_ms=every * 1000, dur_ms=0.1, other=0,
                 stacks=[[st, c] for st, c, _ in groups], leaves=[lf for _, _, lf in groups])


def test_gthread_workers_serialised_on_a_threading_lock_are_lock_contention(tmp_path):
    s = Synth(tmp_path, load_s=4.0)
    s.processes(pid=100, cores=0.05)
    s.load(rps=100, p50_ms=80)
    p = s.probe(pid=100)
    view = [*WORKER, SITE_FRAME, frame("account", 30), frame("fetch_account", 19)]
    thread_records(s, p, [(view, 7, leaf("lock", "threading.Lock")),
                          ([*view[:-1], frame("fetch_account", 20)], 1, leaf("sleep")),
                          ([*BOOT, frame("flush_metrics", 9)], 1, leaf("sleep")),  # background
                          (WORKER, 2, leaf("queue", "queue.Queue"))])  # idle workers
    profile = wait_profile(s.data())
    assert [x.function for x in profile.background] == ["flush_metrics"]
    assert profile.sites[0].kind == "lock" and profile.sites[0].mean_waiters == pytest.approx(7, abs=0.2)
    d = s.diagnose()
    assert d["verdict"] == "lock-contention" and "threading.Lock" in d["summary"]
    out = waits_json(profile)  # no event loop: the threads' view alone, said in one line
    assert out["event_loops"] == 0 and threads_only(out) == THREADS_ONLY


def test_executor_threads_of_a_loop_process_are_the_awaiting_task_s_time(tmp_path):
    s = recording(tmp_path, [(request(frame("load_invoice", 29)), 10,
                              leaf("executor", "ThreadPoolExecutor@1", size=2, busy=2))])
    p = s.probe(pid=100)  # the same process's worker threads, running the offloaded calls
    thread_records(s, p, [([*WORKER, frame("blocking_fetch", 23)], 2, leaf("sleep"))])
    profile = wait_profile(s.data())
    assert [x.function for x in profile.sites] == ["load_invoice"]  # not counted twice
    assert waits_json(profile)["event_loops"] == 1 and threads_only(waits_json(profile)) is None


def test_two_workers_waiters_add_up_at_once_so_the_max_is_never_below_the_mean(tmp_path):
    """gunicorn -w 2: each worker's threads wait 4 at a time on the same site; their
    snapshots interleave. At once that is 8, as the mean (Little's law) says."""
    s = Synth(tmp_path, load_s=4.0)
    s.load(rps=100, p50_ms=80)
    view = [*BOOT, SITE_FRAME, frame("account", 30), frame("fetch_account", 19)]
    for pid in (100, 101):
        s.processes(pid=pid, cores=0.05)
        thread_records(s, s.probe(pid=pid), [(view, 4, leaf("socket", "127.0.0.1:5432"))])
    site = wait_profile(s.data()).sites[0]
    assert site.mean_waiters == pytest.approx(8, abs=0.3)
    assert site.max_waiters == 8
