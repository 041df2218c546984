"""Builds a large heap of cyclic containers, so the collector runs, gen 2 included."""
import gc
import sys


def allocate(n):
    keep = []
    for i in range(n):
        node = {"i": i, "peers": []}
        node["peers"].append(node)  # a cycle: only the collector frees it
        keep.append(node)
    return keep


if __name__ == "__main__":
    heap = allocate(int(sys.argv[1]) if len(sys.argv) > 1 else 600000)
    before = gc.get_stats()[2]["collections"]
    heap2 = allocate(400000)
    print(len(heap) + len(heap2), gc.get_stats()[2]["collections"] - before)
