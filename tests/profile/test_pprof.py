"""pprof export: read back with an independent protobuf wire reader (written here from
profile.proto, not from the encoder), and opened with `go tool pprof`, whose -top must
agree with pinkclinic's own self shares within 1 point."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess

import pytest

from pinkclinic.profile import from_stacks
from pinkclinic.profile.pprof import to_pprof
from tests.diff.synth import make_recording
from tests.helpers import run_cli


def fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) of one message: varints as ints, length-delimited as bytes."""
    out, i = [], 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, i = varint(buf, i)
        elif wire == 2:
            n, i = varint(buf, i)
            val, i = buf[i:i + n], i + n
        else:
            raise AssertionError(f"unexpected wire type {wire}")
        out.append((num, val))
    return out


def varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i


def packed(buf: bytes) -> list[int]:
    out, i = [], 0
    while i < len(buf):
        v, i = varint(buf, i)
        out.append(v)
    return out


def decode(data: bytes) -> dict:
    top = fields(gzip.decompress(data))
    strings = [v.decode() for n, v in top if n == 6]
    sub = {n: [dict_of(v) for k, v in top if k == n] for n in (1, 2, 4, 5, 11)}
    return {"strings": strings, "types": sub[1], "samples": sub[2], "locations": sub[4],
            "functions": sub[5], "period": next((v for n, v in top if n == 12), 0)}


def dict_of(buf: bytes) -> dict:
    d: dict = {}
    for n, v in fields(buf):
        d.setdefault(n, []).append(v)
    return d


FILE = __file__


def helper_function():  # a real function, so its start line can be read from this file
    return sum(range(10))


def test_the_messages_read_back_with_an_independent_reader():
    line = helper_function.__code__.co_firstlineno
    stacks = [([("main", FILE, 5), ("helper_function", FILE, line + 1)], 30, 30, 7, 70),
              ([("main", FILE, 5), ("helper_function", FILE, line + 1)], 10, 10, 7, 71),
              ([("main", FILE, 6)], 5, 5, 7, 70)]
    p = from_stacks(stacks, lines=True, thread_names={(7, 70): "MainThread"},
                    process_names={7: "python app.py"}, meta={"rate_hz": 100})
    got = decode(to_pprof(p))
    s = got["strings"]
    assert s[0] == ""
    assert [(s[t[1][0]], s[t[2][0]]) for t in got["types"]] == [("samples", "count"),
                                                                ("cpu", "nanoseconds")]
    assert got["period"] == 10_000_000
    funcs = {f[1][0]: (s[f[2][0]], s[f[4][0]], f.get(5, [0])[0]) for f in got["functions"]}
    assert funcs and {v[1] for v in funcs.values()} == {FILE}
    assert (("helper_function", FILE, line) in funcs.values())  # its def line, not line + 1
    locs = {loc[1][0]: dict_of(loc[4][0]) for loc in got["locations"]}
    totals = {}
    for smp in got["samples"]:
        ids = packed(smp[1][0])
        count, ns = packed(smp[2][0])
        assert ns == count * 10_000_000
        leaf = locs[ids[0]]  # leaf first
        name = funcs[leaf[1][0]][0]
        totals[name] = totals.get(name, 0) + count
        labels = {s[lab[1][0]]: (s[lab[2][0]] if 2 in lab else lab[3][0])
                  for lab in map(dict_of, smp.get(3, []))}
        assert labels["pid"] == 7 and labels["process"] == "python app.py"
        assert labels["thread_id"] in (70, 71)
        if labels["thread_id"] == 70:
            assert labels["thread"] == "MainThread"
        assert funcs[locs[ids[-1]][1][0]][0] == "main"  # root last
    assert totals == {"helper_function": 40, "main": 5}


def test_heap_profiles_carry_objects_and_bytes():
    p = from_stacks([([("main", "a.py", 1), ("alloc", "a.py", 9)], 4096, 4, 1, 1)],
                    unit="bytes")
    got = decode(to_pprof(p, idle=True))
    s = got["strings"]
    assert [(s[t[1][0]], s[t[2][0]]) for t in got["types"]] == [("objects", "count"),
                                                                ("space", "bytes")]
    assert packed(got["samples"][0][2][0]) == [4, 4096]


@pytest.mark.skipif(shutil.which("go") is None, reason="go is not installed (.ci/setup "
                    "installs Debian's golang-go)")
def test_go_tool_pprof_top_matches_pinkclinics_own_shares(tmp_path):
    funcs = {"render_report": 500, "price_cart": 210, "check_stock": 120, "audit_log": 90}
    rec = make_recording(tmp_path, "p", funcs, requests=100)
    out = tmp_path / "p.pb.gz"
    proc = run_cli("report", str(rec), "--format", "pprof", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    top = subprocess.run(["go", "tool", "pprof", "-symbolize=none", "-top", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert top.returncode == 0, top.stderr
    flat = {}
    for line in top.stdout.splitlines():
        m = re.match(r"^\s*[\d.]+m?s\s+([\d.]+)%\s+[\d.]+%\s+[\d.]+m?s\s+[\d.]+%\s+(\S+)", line)
        if m:
            flat[m.group(2)] = float(m.group(1))
    from pinkclinic.profile import build_profile

    profile = build_profile(rec)
    busy = profile.total(idle=False)
    own = {profile.frames[s.frame].function: 100 * s.self / busy
           for s in profile.functions(idle=False)}
    for name in funcs:
        assert abs(flat[name] - own[name]) <= 1.0, (name, flat, own)
    assert "Type: cpu" in top.stdout
