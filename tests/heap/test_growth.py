"""Live bytes per site on the grid, folded from temporal records (memray's intervals)."""

import pytest

from pinkclinic.heap.growth import (
    ARENA_SIZES,
    MMAP_ALLOCATOR,
    SMALL_OBJECTS,
    SiteSeries,
    grid_times,
)
from tests.heap.synth import APP, capture, feed, record

STD = "/usr/lib/python3.11"
HANDLER = [("<module>", APP, 1), ("handler", APP, 20)]
TIMES = [100.0 + 0.5 * i for i in range(11)]   # snapshots 0..10, every 0.5 s


def test_an_interval_is_alive_from_its_snapshot_until_it_is_freed():
    series = SiteSeries(grid_times(100.0, 105.0, 11))  # one grid point per snapshot
    feed(series, capture(TIMES), [
        record(HANDLER, (2, None, 1, 1000)),   # allocated before snapshot 2, never freed
        record(HANDLER, (4, 7, 2, 500)),       # alive in snapshots 4, 5, 6
    ])
    (site,) = series.sites.values()
    assert site.frame == ("handler", APP, 20) and site.area == "app"
    assert site.bytes == [0, 0, 1000, 1000, 1500, 1500, 1500, 1000, 1000, 1000, 1000]
    assert site.count == [0, 0, 1, 1, 3, 3, 3, 1, 1, 1, 1]
    assert site.stack == HANDLER  # outermost first


def test_a_grid_point_takes_the_snapshot_in_force_and_a_late_process_starts_empty():
    grid = grid_times(99.0, 101.0, 5)  # 99, 99.5 (before the capture's first snapshot), 100, ...
    series = SiteSeries(grid)
    feed(series, capture(TIMES), [record(HANDLER, (0, None, 1, 64))])
    assert next(iter(series.sites.values())).bytes == [0, 0, 64, 64, 64]


def test_captures_add_up_on_the_shared_grid():
    series = SiteSeries(grid_times(100.0, 105.0, 11))
    feed(series, capture(TIMES, pid=1), [record(HANDLER, (0, None, 1, 100))])
    feed(series, capture(TIMES, pid=2), [record(HANDLER, (5, None, 1, 100))])
    (site,) = series.sites.values()
    assert site.bytes == [100] * 5 + [200] * 6


def test_import_time_and_profiler_allocations_are_counted_never_blamed():
    series = SiteSeries(grid_times(100.0, 105.0, 11))
    imported = [("<module>", "/srv/app/models.py", 3),
                ("_call_with_frames_removed", "<frozen importlib._bootstrap>", 241)]
    feed(series, capture(TIMES), [record(imported, (0, None, 1, 4096)),
                                  record([], (0, None, 1, 10))])
    assert series.sites == {}
    assert series.excluded["import"] == 4096 and series.excluded["empty"] == 10


@pytest.mark.parametrize("size, pooled", [*((a, True) for a in ARENA_SIZES),
                                           *((a + 4096, False) for a in ARENA_SIZES)])
def test_pymalloc_arenas_are_one_site(size, pooled):
    """An mmap of exactly one arena (of any ARENA_SIZES) is small objects, whatever stack
    opened it; a little more is a large allocation of its own."""
    series = SiteSeries(grid_times(100.0, 105.0, 11))
    feed(series, capture(TIMES), [record(HANDLER, (0, None, 2, 2 * size), allocator=MMAP_ALLOCATOR)])
    (frame,) = series.sites
    assert (frame == SMALL_OBJECTS) == pooled
