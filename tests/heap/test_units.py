"""Pure functions of the heap analysis: frame areas, sites, the load timeline, fits,
units, and the checks that turn a recording into insufficient-data."""

from __future__ import annotations

import pytest

from pinkclinic.analysis.stats import linear_fit
from pinkclinic.heap.capture import pid_of
from pinkclinic.heap.diagnosis import rate_text
from pinkclinic.heap.fit import late_ratio
from pinkclinic.heap.frames import area, site_of, strip_launcher
from pinkclinic.heap.insufficient import load_problem, steady_problem, untracked_workers
from pinkclinic.heap.timeline import Timeline
from pinkclinic.units import human_bytes

STD = "/usr/lib/python3.11"
DEPS = "/srv/app/.venv/lib/python3.11/site-packages"


@pytest.mark.parametrize(("file", "expected"), [
    ("/srv/app/views.py", "app"),
    ("views.py", "app"),
    (f"{STD}/json/encoder.py", "stdlib"),
    ("<frozen runpy>", "stdlib"),
    ("<frozen importlib._bootstrap>", "importlib"),
    (f"{STD}/importlib/__init__.py", "importlib"),
    (f"{STD}/importlib/metadata/__init__.py", "stdlib"),   # request-time calls are not imports
    (f"{STD}/importlib/resources/_common.py", "stdlib"),
    (f"{DEPS}/starlette/routing.py", "deps"),
    (f"{DEPS}/importlib_metadata/__init__.py", "deps"),
    (f"{DEPS}/memray/_memray.pyx", "profiler"),
    (f"{DEPS}/memray/commands/run.py", "launcher"),
    (f"{DEPS}/pinkclinic/bootstrap/sitecustomize.py", "profiler"),
    ("/tmp/pc-boot/pinkclinic_probe/memray.py", "profiler"),
    ("/opt/src/pinkclinic/bootstrap/sitecustomize.py", "profiler"),
    ("Objects/obmalloc.c", "native"),
])
def test_frame_areas(file, expected):
    assert area(file) == expected


def test_site_is_the_innermost_app_frame():
    stack = [("join", f"{STD}/x.py", 1), ("render", f"{DEPS}/jinja2/a.py", 2),
             ("page", "/srv/app/views.py", 9), ("handler", "/srv/app/views.py", 20),
             ("_run_tracker", f"{DEPS}/memray/commands/run.py", 5)]
    assert site_of(stack) == (("page", "/srv/app/views.py", 9), "app")
    assert site_of(stack[:2]) == (("render", f"{DEPS}/jinja2/a.py", 2), "deps")


def test_import_time_and_profiler_allocations_have_no_site():
    imported = [("<module>", "/srv/app/models.py", 3),
                ("_call_with_frames_removed", "<frozen importlib._bootstrap>", 241)]
    assert site_of(imported) == (None, "import")
    probe = [("write", f"{STD}/json/encoder.py", 1),
             ("_tick", f"{DEPS}/pinkclinic/bootstrap/pinkclinic_probe/loop.py", 40),
             ("run", f"{STD}/threading.py", 975)]
    assert site_of(probe) == (None, "profiler")


def test_memray_run_entry_frames_are_stripped_from_the_outer_end():
    app = [("<module>", "/srv/app/main.py", 3), ("run", f"{DEPS}/uvicorn/main.py", 9)]
    launched = [("_run_tracker", f"{DEPS}/memray/commands/run.py", 83),
                ("run_path", "<frozen runpy>", 291), ("_run_code", "<frozen runpy>", 88), *app]
    assert strip_launcher(launched) == app
    assert strip_launcher([("_run_module_as_main", "<frozen runpy>", 198), *app])[0][1] == "<frozen runpy>"


def test_timeline_cumulative_requests():
    tl = Timeline.from_ticks([{"t": 101.0, "requests": 50}, (100.0, 100), {"t": 102.0}])
    assert tl.total == 150 and tl.span == (100.0, 102.0)
    assert tl.cumulative(99) == 0
    assert tl.cumulative(100.5) == pytest.approx(50)
    assert tl.served(100.5, 101.5) == pytest.approx(75)
    assert tl.cumulative(500) == 150
    assert Timeline.from_ticks([]) is None


def test_fit_and_late_ratio_separate_leaks_from_caches():
    xs = [float(i) for i in range(30)]
    leak = [1000.0 * x for x in xs]
    fit = linear_fit(xs, leak)
    assert fit.slope == pytest.approx(1000) and fit.r2 == pytest.approx(1)
    assert late_ratio(xs, leak, fit.slope) == pytest.approx(1)
    cache = [min(1000.0 * x, 8000.0) for x in xs]   # fills by x=8, then flat
    assert late_ratio(xs, cache, linear_fit(xs, cache).slope) == pytest.approx(0)
    flat = [5e6] * 30
    assert linear_fit(xs, flat).slope == 0 and linear_fit(xs, flat).r2 == 0


def test_timeline_counts_only_2xx_and_3xx_as_served_and_uses_each_bins_length():
    tl = Timeline.from_ticks([
        {"t": 100.0, "dur_s": 1.0, "requests": 100, "status": {"200": 90, "302": 5, "500": 5},
         "errors": 2},
        {"t": 101.0, "dur_s": 0.5, "requests": 40, "status": {"200": 40}},  # an interrupted last bin
    ])
    assert tl.total == 135 and tl.attempts == 142 and tl.span == (100.0, 101.5)
    assert tl.cumulative(101.25) == pytest.approx(95 + 20)   # half of the half-second bin
    assert tl.cumulative(101.6) == 135
    assert tl.load_info() == {"attempts": 142, "served": 135, "failed": 7,
                              "status": {"200": 130, "302": 5, "500": 5}, "no_response": 2}
    assert tl.series()["requests"] == [95.0, 80.0] and tl.series()["failed"] == [7.0, 0.0]


def test_a_load_that_mostly_failed_is_named_with_its_status_codes():
    failed = Timeline.from_ticks([{"t": 1.0, "requests": 1844, "status": {"500": 1844}},
                                  {"t": 2.0, "requests": 10, "status": {"200": 10}, "errors": 3}])
    problem = load_problem(failed)
    assert "1,847 of 1,857 requests failed" in problem
    assert "1,844 HTTP 500" in problem and "3 with no response" in problem and "10 got 2xx/3xx" in problem
    fine = Timeline.from_ticks([{"t": 1.0, "requests": 100, "status": {"200": 60, "404": 40}}])
    assert load_problem(fine) is None and load_problem(None) is None


def test_steady_but_small_growth_asks_for_a_longer_run():
    row = {"function": "remember_visit", "file": "/srv/app/known_rate.py", "line": 25,
           "growth_bytes": 207_502, "bytes_per_request": 1037.5, "bytes_per_second": 51_000.0}
    text = steady_problem([row], root="/srv/app")
    assert text.startswith("`remember_visit` in known_rate.py:25 grew steadily at 1.0 kB/request")
    assert "only 207.5 kB in total" in text and "run the load longer" in text
    assert steady_problem([]) is None


def test_forked_workers_without_a_capture_are_named():
    headers = {10: {"forked": False}, 11: {"forked": True}, 12: {"forked": True}}
    text = untracked_workers(headers, {10}, follow_fork=False)
    assert "2 forked worker processes (PID 11, 12)" in text and "--follow-fork" in text
    assert untracked_workers(headers, {10, 11, 12}, follow_fork=True) is None
    assert "memray wrote no file" in untracked_workers(headers, {10, 11}, follow_fork=True)
    assert (pid_of("/r/memray-10.bin"), pid_of("memray-10.bin.12"), pid_of("x.bin")) == (10, 12, None)


def test_bytes_are_powers_of_1000_everywhere():
    assert [human_bytes(n) for n in (8.4, 999, 1000, 20_087, 19_662, 1_048_576, 2.5e9)] == \
        ["8 B", "999 B", "1.0 kB", "20.1 kB", "19.7 kB", "1.0 MB", "2.5 GB"]
    assert rate_text({"bytes_per_request": 40.2}) == "40 B/request"  # never "0.0 kB"
    assert rate_text({"bytes_per_request": None, "bytes_per_second": 6.5e6}) == "6.5 MB/s"
