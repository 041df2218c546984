"""Pure functions of the heap analysis: frame areas, sites, the load timeline, fits."""

from __future__ import annotations

import pytest

from pinkclinic.heap.fit import late_ratio, linear_fit
from pinkclinic.heap.frames import area, site_of, strip_launcher
from pinkclinic.heap.timeline import Timeline

STD = "/usr/lib/python3.11"
DEPS = "/srv/app/.venv/lib/python3.11/site-packages"


@pytest.mark.parametrize(("file", "expected"), [
    ("/srv/app/views.py", "app"),
    ("views.py", "app"),
    (f"{STD}/json/encoder.py", "stdlib"),
    ("<frozen runpy>", "stdlib"),
    ("<frozen importlib._bootstrap>", "importlib"),
    (f"{STD}/importlib/__init__.py", "importlib"),
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
