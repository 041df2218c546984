"""pprof export: a :class:`Profile` as pprof's gzipped protobuf ``profile.proto``, the
format Pyroscope, Parca, Grafana and ``go tool pprof`` ingest.

A small encoder of the few messages needed (Profile, ValueType, Sample, Label, Location,
Line, Function), not a protobuf library: the wire format of those messages is varints
and length-delimited fields only, about 40 lines; ``tests/profile/test_pprof.py``
decodes the output with an independent reader and with ``go tool pprof``.

* Sample types: py-spy ``samples`` (count) and ``cpu`` in nanoseconds (``wall`` when the
  waiting samples are kept); pyinstrument ``samples`` and ``wall`` nanoseconds; heap
  ``objects`` (count) and ``space`` (bytes). The last type is pprof's default.
* One location per (function, file, line) with its line; one function per (function,
  file) with its file name and start line (the ``def`` line read from the source file
  when it is there, else the lowest line sampled in it).
* Labels on every sample: ``thread`` (name), ``thread_id``, ``pid``, ``process``.
"""

from __future__ import annotations

import gzip
import linecache
import re

from pinkclinic.profile.model import Profile

# field numbers of profile.proto
P_SAMPLE_TYPE, P_SAMPLE, P_LOCATION, P_FUNCTION, P_STRINGS = 1, 2, 4, 5, 6
P_DURATION, P_PERIOD_TYPE, P_PERIOD = 10, 11, 12


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # int64 negatives as two's complement, as protobuf does
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _int(field: int, n: int) -> bytes:
    return _key(field, 0) + _varint(int(n)) if n else b""


def _bytes(field: int, data: bytes) -> bytes:
    return _key(field, 2) + _varint(len(data)) + data


def _packed(field: int, values) -> bytes:
    return _bytes(field, b"".join(_varint(int(v)) for v in values))


class _Strings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {"": 0}

    def __call__(self, s: str) -> int:
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.index)
        return i

    def encode(self) -> bytes:
        return b"".join(_bytes(P_STRINGS, s.encode("utf-8", "surrogateescape"))
                        for s in self.index)


def start_line(function: str, file: str, lowest: int) -> int:
    """The ``def`` (or ``class``) line of ``function`` at or above ``lowest`` in ``file``."""
    if not lowest or not file or file.startswith("<"):
        return lowest
    name = re.escape(function.rsplit(".", 1)[-1])
    pattern = re.compile(rf"^\s*(?:async\s+def|def|class)\s+{name}\b")
    for n in range(lowest, max(0, lowest - 2000), -1):
        text = linecache.getline(file, n)
        if not text:
            return lowest
        if pattern.match(text):
            return n
    return lowest


def _types(p: Profile, idle: bool) -> tuple[list[tuple[str, str]], float]:
    """Sample types and the nanoseconds per weight unit (0 for bytes)."""
    if p.unit == "bytes":
        return [("objects", "count"), ("space", "bytes")], 0.0
    kind = "wall" if idle or p.unit == "seconds" else "cpu"
    if p.unit == "seconds":
        return [("samples", "count"), (kind, "nanoseconds")], 1e9
    rate = float(p.meta.get("rate_hz") or 100)
    return [("samples", "count"), (kind, "nanoseconds")], 1e9 / rate


def to_pprof(p: Profile, *, idle: bool = False) -> bytes:
    """The gzipped ``profile.proto`` of ``p`` (``idle``: keep the waiting samples)."""
    s = _Strings()
    types, ns = _types(p, idle)
    out = bytearray()
    for name, unit in types:
        out += _bytes(P_SAMPLE_TYPE, _int(1, s(name)) + _int(2, s(unit)))
    lowest: dict[tuple[str, str], int] = {}
    for f in p.frames:
        k = (f.function, f.file)
        if f.line and (k not in lowest or f.line < lowest[k]):
            lowest[k] = f.line
    functions: dict[tuple[str, str], int] = {}
    locations: dict[int, int] = {}
    body = bytearray()
    for fid, f in enumerate(p.frames):
        k = (f.function, f.file)
        if k not in functions:
            functions[k] = len(functions) + 1
            body += _bytes(P_FUNCTION, _int(1, functions[k]) + _int(2, s(f.function))
                           + _int(3, s(f.function)) + _int(4, s(f.file))
                           + _int(5, start_line(f.function, f.file, lowest.get(k, 0))))
        locations[fid] = len(locations) + 1
        line = _bytes(4, _int(1, functions[k]) + _int(2, f.line))
        body += _bytes(P_LOCATION, _int(1, locations[fid]) + line)
    labels: dict[int, bytes] = {}
    for t, th in enumerate(p.threads):
        lab = b""
        if th.name or th.tid is not None:
            lab += _bytes(3, _int(1, s("thread")) + _int(2, s(th.name or f"thread {th.tid}")))
        if th.tid is not None:
            lab += _bytes(3, _int(1, s("thread_id")) + _int(3, th.tid))
        if th.pid is not None:
            lab += _bytes(3, _int(1, s("pid")) + _int(3, th.pid))
        if th.process:
            lab += _bytes(3, _int(1, s("process")) + _int(2, s(th.process)))
        labels[t] = lab
    for t, frames, w, c in p.iter_stacks(idle=idle):
        if not frames:
            continue
        values = [int(c), round(w)] if p.unit == "bytes" else [int(c), round(w * ns)]
        body += _bytes(P_SAMPLE, _packed(1, [locations[f] for f in reversed(frames)])
                       + _packed(2, values) + labels[t])
    kind, unit = types[-1]
    out += body
    if ns:
        out += _bytes(P_PERIOD_TYPE, _int(1, s(kind)) + _int(2, s(unit)))
        out += _int(P_PERIOD, round(ns if p.unit == "samples" else 0))
    duration = p.meta.get("duration_s")
    if duration:
        out += _int(P_DURATION, round(float(duration) * 1e9))
    return gzip.compress(bytes(s.encode() + out), mtime=0)
