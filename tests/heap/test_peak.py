"""What was alive at the peak: the largest-heap snapshot, stacks merged, roots that say why."""

from pinkclinic.heap.growth import MMAP_ALLOCATOR, SMALL_OBJECTS
from pinkclinic.heap.peak import IMPORT, NO_STACK, OTHER, PeakTree, as_weighted_stacks
from tests.heap.synth import APP, capture, feed, record

TIMES = [100.0 + 0.5 * i for i in range(6)]
HEAP = [10, 50, 90, 40, 30, 20]   # the peak is snapshot 2
A = [("<module>", APP, 1), ("a", APP, 5)]
B = [("<module>", APP, 1), ("b", APP, 9)]


def peak_of(records, *, multi=False, caps=None):
    tree = PeakTree(multi)
    for cap in caps or [capture(TIMES, HEAP)]:
        feed(tree, cap, records)
    return tree.result()


def test_only_what_is_alive_at_the_largest_heap_counts():
    peak = peak_of([record(A, (0, None, 1, 100)),   # alive at 2
                    record(A, (2, 3, 3, 30)),       # alive at 2 only: merged with the above
                    record(B, (3, None, 1, 999)),   # allocated after the peak
                    record(B, (0, 2, 1, 999))])     # freed before it
    assert peak["bytes"] == 130 and peak["count"] == 4
    assert as_weighted_stacks(peak) == [(A, 130, 4)]
    assert peak["per_process"] == [{"pid": 4000, "peak_memory": 90, "peak_time": 101.0}]
    assert peak["summed_over_processes"] is False


def test_stacks_are_interned_and_roots_name_what_is_not_the_app():
    imported = [("<module>", "/srv/app/models.py", 3),
                ("_call_with_frames_removed", "<frozen importlib._bootstrap>", 241)][::-1]
    peak = peak_of([record(A, (0, None, 1, 10)), record(B, (0, None, 1, 20)),
                    record(imported, (0, None, 1, 5)), record([], (0, None, 1, 1)),
                    record(A, (0, None, 4, 4 << 20), allocator=MMAP_ALLOCATOR)])
    stacks = {tuple(f[0] for f in frames): b for frames, b, _ in as_weighted_stacks(peak)}
    assert stacks[(SMALL_OBJECTS[0],)] == 4 << 20
    assert stacks[(IMPORT[0], *(f[0] for f in imported))] == 5
    assert stacks[(NO_STACK[0],)] == 1
    assert stacks[("<module>", "b")] == 20 and stacks[("<module>", "a")] == 10
    assert len(peak["frame_table"]) == len({tuple(f) for f in peak["frame_table"]})


def test_the_smallest_stacks_beyond_the_limit_are_summed():
    tree = PeakTree(False)
    feed(tree, capture(TIMES, HEAP), [record([("<module>", APP, 1), (f"f{i}", APP, i)],
                                             (0, None, 1, 10 + i)) for i in range(5)])
    peak = tree.result(max_stacks=3)
    rows = as_weighted_stacks(peak)
    assert [frames[-1][0] for frames, _, _ in rows] == ["f4", "f3", "f2", OTHER[0]]
    assert rows[-1][1:] == (10 + 11, 2) and peak["dropped_stacks"] == 2
    assert peak["bytes"] == sum(10 + i for i in range(5))


def test_several_processes_each_under_their_own_root():
    caps = [capture(TIMES, HEAP, pid=1), capture(TIMES, HEAP, pid=2)]
    peak = peak_of([record(A, (0, None, 1, 100))], multi=True, caps=caps)
    roots = sorted(frames[0][0] for frames, _, _ in as_weighted_stacks(peak))
    assert roots == ["process 1: python app.py", "process 2: python app.py"]
    assert peak["bytes"] == 200 and peak["summed_over_processes"] is True
