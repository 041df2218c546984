"""The thresholds of gil-contention (with schedstat, and the older estimate without it)
and of CPU saturation that tests/analysis/test_gil.py does not cross, each from both
sides and derived from its constant; and the missing streams, which give
insufficient-data, never a verdict. The recordings are test_gil's: ``n`` request threads,
each ``on_cpu`` and ``runq`` of its time, py-spy seeing them ``busy``."""

from __future__ import annotations

import math

import pytest

from pinkclinic.analysis import gil, saturation
from pinkclinic.analysis.finding import INSUFFICIENT, ISSUE, NONE
from tests.analysis.test_gil import DIGEST, LOCKED, SCORE, TIDS, TWO, rec
from tests.synth import Synth, spy_thread

ONE = {"machine": 2, "affinity": 1, "cgroup_quota": None, "cgroup_file": None, "usable": 1}


def quota(cores: float) -> dict:
    return {"machine": 2, "affinity": 2, "cgroup_quota": cores, "usable": cores,
            "cgroup_file": "/sys/fs/cgroup/x/cpu.max"}


# -- gil-contention, from schedstat ----------------------------------------------------

@pytest.mark.parametrize("side", [0.9, 1.1])
def test_gil_min_busy_threads(tmp_path, side):
    """Two threads, a quarter on a CPU and the rest of their wanting time in the GIL's
    futex (gil_share far past GIL_SHARE): contention once they want GIL_MIN_BUSY_THREADS."""
    want = gil.GIL_MIN_BUSY_THREADS * side / 2  # per thread
    f = gil.analyse(rec(tmp_path, on_cpu=0.25, runq=0.0, busy=want, n=2).data())
    assert f.evidence["wanting_threads"] == pytest.approx(2 * want, abs=0.03)
    assert f.evidence["gil_share"] > 1.5 * gil.GIL_SHARE
    assert f.status == (ISSUE if side > 1 else NONE), f.summary


@pytest.mark.parametrize("side", [0.9, 1.1])
def test_gil_min_usable_cores(tmp_path, side):
    """The same contended threads under a CPU quota of just under (over) GIL_MIN_USABLE
    cores: below it the core is the limit and more processes would not help."""
    usable = gil.GIL_MIN_USABLE * side
    f = gil.analyse(rec(tmp_path, on_cpu=0.25, runq=0.05, cores=quota(usable)).data())
    assert f.evidence["usable_cores"] == pytest.approx(usable)
    assert f.evidence["gil_share"] > 0.5 and f.evidence["wanting_threads"] > 3
    assert f.status == (ISSUE if side > 1 else NONE), f.summary


@pytest.mark.parametrize("side", [0.8, 1.2])
def test_py_spy_must_sample_a_second_of_the_window(tmp_path, side):
    s = rec(tmp_path, on_cpu=0.25, runq=0.05)
    s.rec.path.joinpath("pyspy.speedscope.json").unlink()
    start = s.w0 + 1
    s.pyspy(*(spy_thread(100, t, [(SCORE, 1.0)]) for t in TIDS), start=start,
            end=start + gil.MIN_SPAN_S * side)
    f = gil.analyse(s.data())
    if side < 1:
        assert f.status == INSUFFICIENT and "less than a second" in f.summary
    else:
        assert f.status == ISSUE


def test_without_py_spy_the_gil_is_a_missing_signal(tmp_path):
    s = Synth(tmp_path, load_s=4)
    s.processes(cores=1.0)
    s.thread_states(100, {t: (10, 15, 0) for t in TIDS}, sched={t: (0.25, 0.05) for t in TIDS},
                    cores=TWO)
    f = gil.analyse(s.data())
    assert f.status == NONE and f.category is None and f.missing == ["stacks"]


@pytest.mark.parametrize("records", [math.ceil(gil.MIN_SPAN_S / 0.5) - 1, math.ceil(gil.MIN_SPAN_S / 0.5)])
def test_thread_times_must_cover_a_second(tmp_path, records):
    """Thread-state records (0.5 s each) that cover less than MIN_SPAN_S of the window:
    no split to judge by, for the GIL as for saturation."""
    s = Synth(tmp_path, load_s=4)
    s.processes(cores=1.0)
    s.load()
    start = s.w0 + 1
    s.thread_states(100, {t: (8, 17, 0) for t in TIDS}, sched={t: (0.25, 0.05) for t in TIDS},
                    cores=TWO, start=start, end=start + 0.5 * records)
    s.pyspy(*(spy_thread(100, t, [(SCORE, 1.0)]) for t in TIDS))
    f, sat = gil.analyse(s.data()), saturation.analyse(s.data())
    if records * 0.5 < gil.MIN_SPAN_S:
        assert f.status == INSUFFICIENT and f.summary == "no thread times for the sampled processes"
        assert sat.status == INSUFFICIENT and "less than a second" in sat.summary
    else:
        assert f.status == ISSUE and sat.status == NONE


# -- gil-contention estimated without schedstat ----------------------------------------

def estimated(tmp_path, *, want: list[float], cores: float, states: bool = True):
    """A schema-1 recording: threads busy in Python ``want`` of their samples (the rest in a
    lock's ``Condition.wait``), all of it running or in futex for /proc; the process at
    ``cores``."""
    s = Synth(tmp_path, load_s=4)
    s.processes(cores=cores)
    s.load()
    tids = TIDS[:len(want)]
    if states:
        s.thread_states(100, {t: (10, 15, 0) for t in tids})
    s.pyspy(*(spy_thread(100, t, [(SCORE, w), (LOCKED, 1 - w)] if w < 1 else [(SCORE, 1.0)])
              for t, w in zip(tids, want)))
    return s


@pytest.mark.parametrize("side", [0.9, 1.1])
def test_estimate_min_busy_threads(tmp_path, side):
    want = gil.GIL_MIN_BUSY_THREADS * side
    f = gil.analyse(estimated(tmp_path, want=[want / 2] * 2, cores=gil.GIL_MIN_CPU * 1.1).data())
    assert "gil_share" not in f.evidence  # the estimate's evidence
    assert f.evidence["wanting_threads"] == pytest.approx(want, abs=0.03)
    assert f.evidence["wait_share"] > gil.GIL_WAIT_SHARE
    assert f.status == (ISSUE if side > 1 else NONE), f.summary


@pytest.mark.parametrize("side", [0.9, 1.1])
def test_estimate_min_cpu(tmp_path, side):
    """Four threads wanting the GIL all the time, the process at just under (over)
    GIL_MIN_CPU cores: below it, something else held them back, not the GIL's one core."""
    cores = gil.GIL_MIN_CPU * side
    f = gil.analyse(estimated(tmp_path, want=[1.0] * 4, cores=cores).data())
    # cpu_seconds reads the samples up to 50 ms past each end of the span: ~3% high here
    assert f.evidence["cpu_cores"] == pytest.approx(cores, rel=0.04)
    assert f.evidence["wait_share"] > gil.GIL_WAIT_SHARE
    assert f.status == (ISSUE if side > 1 else NONE), f.summary


@pytest.mark.parametrize("side", [0.9, 1.1])
def test_estimate_wait_share(tmp_path, side):
    """Two threads wanting the GIL all the time; the process uses what they did not wait."""
    share = gil.GIL_WAIT_SHARE * side
    f = gil.analyse(estimated(tmp_path, want=[1.0] * 2, cores=2 * (1 - share)).data())
    assert f.evidence["wait_share"] == pytest.approx(share, abs=0.02)  # the CPU's 3% (above)
    assert f.status == (ISSUE if side > 1 else NONE), f.summary


def test_estimate_without_cpu_samples_is_insufficient(tmp_path):
    s = Synth(tmp_path, load_s=4)
    s.load()
    s.thread_states(100, {t: (10, 15, 0) for t in TIDS})
    s.pyspy(*(spy_thread(100, t, [(SCORE, 1.0)]) for t in TIDS))
    f = gil.analyse(s.data())
    assert f.status == INSUFFICIENT and f.summary == "no CPU samples for the sampled processes"


def test_estimate_without_thread_states_says_so(tmp_path):
    f = gil.analyse(estimated(tmp_path, want=[1.0] * 4, cores=1.0, states=False).data())
    assert f.status == ISSUE and f.evidence["source"].startswith("py-spy only")


# -- CPU saturation --------------------------------------------------------------------

@pytest.mark.parametrize("side", [0.9, 1.1])
def test_runq_threads(tmp_path, side):
    """Two threads on one usable core, each 0.4 of the time on it and the run queue share
    past RUNQ_SHARE: saturated once RUNQ_THREADS threads wait on the queue on average."""
    runq = saturation.RUNQ_THREADS * side / 2
    f = saturation.analyse(rec(tmp_path, on_cpu=0.4, runq=runq, futex_of_rest=0.0, stack=DIGEST,
                               busy=0.4 + runq, n=2, cores=ONE).data())
    assert f.evidence["runq_threads"] == pytest.approx(2 * runq, abs=0.006)  # rounded
    assert f.evidence["runq_share"] >= saturation.RUNQ_SHARE
    assert f.evidence["cpu_cores"] + f.evidence["runq_threads"] > 1
    assert f.evidence["saturated"] is (side > 1), f.summary


@pytest.mark.parametrize("side", [0.95, 1.05])
def test_busy_share(tmp_path, side):
    """Four threads on two cores, none on the run queue, waiting for the GIL besides: the
    cores are full once the process keeps BUSY_SHARE of them busy."""
    on_cpu = saturation.BUSY_SHARE * 2 * side / 4
    f = saturation.analyse(rec(tmp_path, on_cpu=on_cpu, runq=0.0, busy=on_cpu + 0.3).data())
    assert f.evidence["cpu_cores"] == pytest.approx(4 * on_cpu, abs=0.01)
    assert f.evidence["wanting_threads"] > 2 + saturation.MORE_THREADS
    assert f.evidence["runq_share"] == 0
    assert f.evidence["saturated"] is (side > 1), f.summary


@pytest.mark.parametrize("side", [0.95, 1.05])
def test_more_threads(tmp_path, side):
    """The process at 1.8 of its two cores: saturated once MORE_THREADS threads more than
    the cores want to run."""
    want = (2 + saturation.MORE_THREADS) * side / 4
    f = saturation.analyse(rec(tmp_path, on_cpu=0.45, runq=0.0, busy=want).data())
    assert f.evidence["cpu_cores"] >= saturation.BUSY_SHARE * 2
    assert f.evidence["wanting_threads"] == pytest.approx(4 * want, abs=0.03)
    assert f.evidence["saturated"] is (side > 1), f.summary


@pytest.mark.parametrize("side", [0.9, 1.1])
def test_starved_share(tmp_path, side):
    """One thread, 0.4 of a core, STARVED_SHARE of its wanting time on the run queue:
    other processes held the cores (said in a warning, never an issue)."""
    share = saturation.STARVED_SHARE * side
    runq = 0.4 * share / (1 - share)
    s = rec(tmp_path, on_cpu=0.4, runq=runq, futex_of_rest=0.0, stack=DIGEST, busy=0.4 + runq, n=1)
    f = saturation.analyse(s.data())
    assert f.evidence["runq_share"] == pytest.approx(share, abs=0.01)
    assert f.evidence["runq_threads"] >= saturation.RUNQ_THREADS and not f.evidence["saturated"]
    assert f.evidence["starved"] is (side > 1) and f.status == NONE
    d = s.diagnose()
    assert (d["saturation"] or {}).get("category") == ("cpu-starved" if side > 1 else None)


def test_no_schedstat_is_insufficient_and_names_the_signal_only_if_threads_ran(tmp_path):
    s = Synth(tmp_path / "a", load_s=4)
    s.processes(cores=1.0)
    s.thread_states(100, {t: (10, 15, 0) for t in TIDS})  # schema 1: no run-queue times
    f = saturation.analyse(s.data())
    assert f.status == INSUFFICIENT and f.missing == ["schedstat"]
    assert f.evidence.get("saturated") is None
    s = Synth(tmp_path / "b", load_s=4)  # no thread sampler at all (cpu-memory's loss)
    s.processes(cores=1.0)
    f = saturation.analyse(s.data())
    assert f.status == INSUFFICIENT and f.missing == []
