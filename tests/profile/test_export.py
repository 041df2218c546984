"""Exports: speedscope validates against speedscope's published schema; collapsed and json
read back to the same profile."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from pinkclinic.profile import ProfileBuilder, export, from_stacks, read_collapsed
from pinkclinic.profile.export import SPEEDSCOPE_SCHEMA

SCHEMA = json.loads((Path(__file__).parent / "fixtures" / "speedscope-file-format-schema.json")
                    .read_text())
HOSTILE = '</script><img src=x onerror=alert(1)>;evil\nname'


def sample_profile(unit="samples"):
    app = "/srv/app.py"
    return from_stacks([
        ([("main", app, 1), ("hot", app, 5)], 6, 6, 1, 1),
        ([("main", app, 1), (HOSTILE, app, 9)], 2, 2, 1, 1),
        ([("main", app, 1), ("Condition.wait", "/usr/lib/python3.11/threading.py", 327)],
         3, 3, 1, 2),
    ], unit=unit, thread_names={(1, 1): "MainThread", (1, 2): "pool;1"},
        process_names={1: 'python "app.py"'})


def validate_speedscope(doc):
    """Valid against speedscope's own published schema (a fixture, see fixtures/README.md),
    plus what a JSON schema cannot say: samples index the shared frames, and a profile's
    weights add up to its span."""
    jsonschema.validate(doc, SCHEMA)  # raises ValidationError naming the field
    assert doc["$schema"] == SPEEDSCOPE_SCHEMA
    frames = doc["shared"]["frames"]
    assert doc["profiles"]
    for p in doc["profiles"]:
        assert p["type"] == "sampled" and p["endValue"] >= p["startValue"]
        assert len(p["samples"]) == len(p["weights"])
        for s in p["samples"]:
            assert all(isinstance(i, int) and 0 <= i < len(frames) for i in s)
        assert all(w >= 0 for w in p["weights"])
        assert sum(p["weights"]) == pytest.approx(p["endValue"] - p["startValue"])


def test_the_schema_fixture_rejects_what_speedscope_would():
    doc = json.loads(export(sample_profile(), "speedscope"))
    validate_speedscope(doc)
    for broken in ({**doc, "profiles": [{**doc["profiles"][0], "unit": "furlongs"}]},
                   {**doc, "shared": {"frames": [{"file": "/srv/app.py"}]}},
                   {**doc, "profiles": [{**doc["profiles"][0], "type": "flat"}]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, SCHEMA)


@pytest.mark.parametrize("unit", ["samples", "seconds", "bytes"])
def test_speedscope_is_valid(unit):
    doc = json.loads(export(sample_profile(unit), "speedscope"))
    validate_speedscope(doc)
    assert {p["name"] for p in doc["profiles"]} == \
        {'process 1 thread 1 "MainThread"', 'process 1 thread 2 "pool;1"'}
    assert HOSTILE in {f["name"] for f in doc["shared"]["frames"]}


def test_speedscope_without_idle_drops_waiting():
    doc = json.loads(export(sample_profile(), "speedscope", idle=False))
    validate_speedscope(doc)
    assert sum(sum(p["weights"]) for p in doc["profiles"]) == 8


def test_collapsed_round_trip():
    p = sample_profile()
    text = export(p, "collapsed")
    lines = text.splitlines()
    assert len(lines) == 3 and all(line.rsplit(" ", 1)[1].isdigit() for line in lines)
    assert all(line.startswith('process 1:"python "app.py"";thread (') for line in lines)
    b = ProfileBuilder()
    read_collapsed(lines, b)
    q = b.build()
    assert q.total() == p.total() == 11
    assert [(t.pid, t.tid) for t in q.threads] == [(1, 1), (1, 2)]
    names = {q.frames[s.frame].function: s.self for s in q.functions(idle=True)}
    assert names["hot"] == 6 and names["Condition.wait"] == 3
    assert any("evil name" in n for n in names)  # ';' and newlines cannot split a stack


def test_collapsed_seconds_are_microseconds():
    p = from_stacks([([("f", "/a.py", 1)], 0.25, 1, 1, 1)], unit="seconds")
    assert export(p, "collapsed").endswith(" 250000\n")


def test_json_export():
    doc = json.loads(export(sample_profile("bytes"), "json"))
    assert doc["schema_version"] == 1 and doc["unit"] == "bytes" and doc["has_counts"]
    assert doc["areas"] == ["app", "stdlib"]  # bytes: no idle rules
    frames = doc["frames"]
    hot = next(s for s in doc["functions"] if frames[s["frame"]]["function"] == "hot")
    assert (hot["self"], hot["self_count"]) == (6, 6)
    assert sum(s["weight"] for s in doc["stacks"]) == 11
    assert sum(s["idle"] for s in doc["stacks"]) == 0
    doc = json.loads(export(sample_profile("samples"), "json"))
    assert doc["areas"] == ["app", "idle"]
    assert sum(s["idle"] for s in doc["stacks"]) == 1


def test_unknown_format():
    with pytest.raises(ValueError, match="speedscope"):
        export(sample_profile(), "svg")


def test_empty_speedscope_has_no_active_profile_index():
    doc = json.loads(export(from_stacks([]), "speedscope"))
    assert doc["profiles"] == [] and "activeProfileIndex" not in doc  # null fails the schema


def test_speedscope_keeps_the_time_order_when_the_profile_has_it(tmp_path):
    from pinkclinic.profile import read_pyspy

    names = [{"name": "thread (7): MainThread", "file": "", "line": 0},
             {"name": "main", "file": "/srv/a.py", "line": 1},
             {"name": "a", "file": "/srv/a.py", "line": 2},
             {"name": "b", "file": "/srv/a.py", "line": 3},
             {"name": "Condition.wait", "file": "/usr/lib/python3.11/threading.py", "line": 9}]
    A, B, W = [0, 1, 2], [0, 1, 3], [0, 1, 4]
    samples = [A, A, B, W, A, B, B]
    path = tmp_path / "pyspy.speedscope.json"
    path.write_text(json.dumps({"shared": {"frames": names}, "profiles": [
        {"type": "sampled", "name": 'Thread 7 "MainThread"', "unit": "seconds", "startValue": 0,
         "endValue": 0.07, "samples": samples, "weights": [0.01] * 7}]}, separators=(",", ":")))

    def runs(order, idle):
        b = ProfileBuilder()
        read_pyspy(path, b, order=order)
        doc = json.loads(export(b.build(), "speedscope", idle=idle))
        validate_speedscope(doc)
        fr = doc["shared"]["frames"]
        (prof,) = doc["profiles"]
        return [(fr[s[-1]]["name"], w) for s, w in zip(prof["samples"], prof["weights"], strict=True)]

    assert runs(True, True) == [("a", 2), ("b", 1), ("Condition.wait", 1), ("a", 1), ("b", 2)]
    assert runs(True, False) == [("a", 2), ("b", 1), ("a", 1), ("b", 2)]
    assert sorted(runs(False, True)) == [("Condition.wait", 1), ("a", 3), ("b", 3)]
