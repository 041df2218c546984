"""Per-route results on synthetic recordings: path templates, the table over the window,
requests in flight, and which routes a culprit slows (see docs/recording-format.md)."""

from __future__ import annotations

import json
from array import array

import pytest

from pinkclinic.analysis.pyspy_window import ThreadSamples
from pinkclinic.analysis.route_culprits import MIN_ROUTE_SHARE, MIN_SAMPLES, culprit_routes
from pinkclinic.analysis.routes import in_flight, path_template, route_table
from tests.synth import LOOP_IDLE, Synth, frame, on_loop, spy_thread


@pytest.mark.parametrize(("path", "template"), [
    ("/", "/"),
    ("/health", "/health"),
    ("/report/17", "/report/[<id>]"),
    ("/users/42/orders/7?page=2", "/users/[<id>]/orders/[<id>]"),
    ("/items/3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b", "/items/[<id>]"),
    ("/blob/deadbeef01", "/blob/[<id>]"),
    ("/reset/Ab3dEf9hIj2kLm5n", "/reset/[<id>]"),  # a token in the path is not written
    ("/search?api_key=s3cret&q=x", "/search"),       # nor one in the query string
    ("/a/[<id>]/b", "/a/[<id>]/b"),                   # the load generator's own id mark
    ("/about/v2", "/about/v2"),                       # words with a digit stay
    ("/cafe", "/cafe"),                               # hex letters without a digit stay
])
def test_path_template_collapses_ids_and_drops_queries(path, template):
    assert path_template(path) == template


def _doc(tmp_path, requests):
    s = Synth(tmp_path)
    return s, s.routes(requests)


def _only_doc(tmp_path, requests):
    return _doc(tmp_path, requests)[1]


def test_table_counts_percentiles_and_errors_per_route_over_the_window(tmp_path):
    s = Synth(tmp_path)
    reqs = [(f"/report/{i}", s.t0 + 1 + i * 0.05, 20.0 + i, 200) for i in range(100)]
    reqs += [("/health", s.t0 + 1 + i * 0.05, 1.0, 200 if i % 10 else 503) for i in range(50)]
    reqs += [("/health", s.t0 + 2, 5000.0, 0)]  # a timeout: an error, with its time
    reqs += [("/report/1", s.t0 + 0.1, 999.0, 200), ("/health", s.t1 - 0.1, 999.0, 200)]  # trimmed edges
    doc = s.routes(reqs)
    assert doc["routes"] == [{"method": "GET", "path": "/report/[<id>]"}, {"method": "GET", "path": "/health"}]
    assert json.loads((s.rec.path / "routes.json").read_text()) == doc  # the real writer's file
    table = route_table(doc, (s.w0, s.w1))
    assert table == [
        {"method": "GET", "path": "/report/[<id>]", "count": 100, "p50_ms": 69.0, "p99_ms": 118.0,
         "errors": 0},
        {"method": "GET", "path": "/health", "count": 51, "p50_ms": 1.0, "p99_ms": 5000.0, "errors": 6},
    ]
    # without a window every request counts, the edges' too
    assert [r["count"] for r in route_table(doc, None)] == [101, 52]


def test_routes_with_one_template_are_one_route(tmp_path):
    s, doc = _doc(tmp_path, [("/report/1?token=abc", 1_700_000_001.0, 10.0, 200),
                             ("/report/2", 1_700_000_001.5, 30.0, 200)])
    assert doc["routes"] == [{"method": "GET", "path": "/report/[<id>]"}]
    assert route_table(doc, None)[0]["count"] == 2
    assert "abc" not in (s.rec.path / "routes.json").read_text()


def test_in_flight_counts_each_route_per_step(tmp_path):
    doc = _only_doc(tmp_path, [("/a", 1_700_000_001.0, 100.0, 200), ("/a", 1_700_000_001.05, 100.0, 200),
                                ("/b", 1_700_000_001.12, 5.0, 200)])
    f = in_flight(doc, (1_700_000_000.0, 1_700_000_003.0))
    assert f.at(1_700_000_000.5) == {}
    assert f.at(1_700_000_001.005) == {0: 1}
    assert f.at(1_700_000_001.075) == {0: 2}
    assert f.at(1_700_000_001.125) == {0: 1, 1: 1}  # a 5 ms request still holds its step
    assert f.at(1_700_000_001.2) == {}


def _thread(t0, step, stacks):
    keys = list(dict.fromkeys(stacks))
    seq = array("I", map(keys.index, stacks))
    return ThreadSamples(100, 100, "MainThread", "python app.py", t0, step, keys, seq)


def test_a_culprit_is_put_on_the_routes_in_flight_at_its_samples(tmp_path):
    hot = tuple(tuple(f) for f in on_loop(frame("render_report")))
    idle = tuple(tuple(f) for f in LOOP_IDLE)
    t0 = 1_700_000_001.0
    # /report in flight over [1, 2) s, /health over [2, 3) s; the culprit runs in [1, 2)
    reqs = [("/report/1", t0 + i * 0.1, 99.0, 200) for i in range(10)]
    reqs += [("/health", t0 + 1 + i * 0.1, 99.0, 200) for i in range(10)]
    doc = _only_doc(tmp_path, reqs)
    threads = [_thread(t0 + 0.005, 0.01, [hot] * 100 + [idle] * 100)]
    key = ("render_report", "/srv/app.py")
    found = culprit_routes(threads, (t0, t0 + 2), doc, {key, ("other", "/srv/app.py")})
    assert found == {key: [{"method": "GET", "path": "/report/[<id>]", "share": 1.0}]}
    # three /report and one /health in flight at once: shared 3 to 1
    both = [("/report/1", t0 + 0.001 * i, 2000.0, 200) for i in range(3)]
    doc2 = _only_doc(tmp_path / "b", [*both, ("/health", t0, 2000.0, 200)])
    found = culprit_routes(threads, (t0, t0 + 2), doc2, {key})
    assert found == {key: [{"method": "GET", "path": "/report/[<id>]", "share": 0.75},
                           {"method": "GET", "path": "/health", "share": 0.25}]}


@pytest.mark.parametrize("samples", [MIN_SAMPLES - 1, MIN_SAMPLES])
def test_a_culprit_names_routes_from_min_samples_in_flight(tmp_path, samples):
    hot = tuple(tuple(f) for f in on_loop(frame("render_report")))
    idle = tuple(tuple(f) for f in LOOP_IDLE)
    t0 = 1_700_000_001.0
    doc = _only_doc(tmp_path, [("/report/1", t0 + i * 0.1, 99.0, 200) for i in range(10)])
    threads = [_thread(t0 + 0.005, 0.01, [hot] * samples + [idle] * (200 - samples))]
    key = ("render_report", "/srv/app.py")
    found = culprit_routes(threads, (t0, t0 + 2), doc, {key})
    assert found == ({} if samples < MIN_SAMPLES else
                     {key: [{"method": "GET", "path": "/report/[<id>]", "share": 1.0}]})


@pytest.mark.parametrize("others", [round(1 / MIN_ROUTE_SHARE), round(1 / MIN_ROUTE_SHARE) - 2])
def test_routes_below_min_route_share_are_not_named(tmp_path, others):
    """One /health request in flight beside ``others`` /report ones, throughout: /health's
    share of the culprit's samples is 1 / (others + 1), just under (over) MIN_ROUTE_SHARE."""
    hot = tuple(tuple(f) for f in on_loop(frame("render_report")))
    t0 = 1_700_000_001.0
    reqs = [("/report/1", t0 + 0.0001 * i, 2000.0, 200) for i in range(others)]
    doc = _only_doc(tmp_path, [*reqs, ("/health", t0, 2000.0, 200)])
    key = ("render_report", "/srv/app.py")
    found = culprit_routes([_thread(t0 + 0.005, 0.01, [hot] * 100)], (t0, t0 + 2), doc, {key})
    share = 1 / (others + 1)
    paths = [r["path"] for r in found[key]]
    assert paths == (["/report/[<id>]", "/health"] if share >= MIN_ROUTE_SHARE else ["/report/[<id>]"])
    if share >= MIN_ROUTE_SHARE:
        assert found[key][1]["share"] == pytest.approx(share, abs=1e-3)


def test_diagnosis_gets_the_table_and_each_culprits_routes(tmp_path):
    s = Synth(tmp_path)
    s.processes(cores=0.9)
    p = s.probe()
    p.loop()
    p.lags(p50_ms=25.0)
    p.blocks(share=0.4, dur_ms=200, stack=on_loop(frame("render_report")), on_cpu=True)
    s.load(rps=20, p50_ms=80.0)
    s.pyspy(spy_thread(100, 100, [(on_loop(frame("render_report")), 0.8), (LOOP_IDLE, 0.2)]))
    s.routes([(f"/report/{i}", s.t0 + i * 0.1, 80.0, 200) for i in range(100)]
             + [("/health", s.t0 + 0.08 + i * 0.1, 1.0, 200) for i in range(100)])
    d = s.diagnose()
    assert d["verdict"] == "loop-cpu"
    assert d["routes"]["table"][0]["path"] == "/report/[<id>]"
    assert {r["path"] for r in d["routes"]["table"]} == {"/report/[<id>]", "/health"}
    culprit = d["issues"][0]["culprits"][0]
    assert culprit["function"] == "render_report"
    # py-spy's samples here are spread evenly, not with the requests: /report holds 8 of
    # every 9 busy 10 ms steps, /health 1, and that is how the culprit's samples are shared
    assert [(r["path"], r["share"]) for r in culprit["routes"]] == [
        ("/report/[<id>]", pytest.approx(8 / 9, abs=0.01)), ("/health", pytest.approx(1 / 9, abs=0.01))]
    assert "routes" not in d["signals_missing"]


def test_the_table_counts_requests_at_the_load_windows_edges(tmp_path):
    """The analysers trim the window's edges; the table does not: every request of the
    load is counted, the first and the last included (a 40-request run gives 40)."""
    s = Synth(tmp_path)
    s.processes(cores=0.5)
    s.load(rps=20)
    s.routes([("/first", s.t0 + 0.01, 5.0, 200), ("/middle", (s.t0 + s.t1) / 2, 5.0, 200),
              ("/last", s.t1 - 0.01, 5.0, 200), ("/after", s.t1 + 0.5, 5.0, 200)])
    d = s.diagnose()
    assert sorted(r["path"] for r in d["routes"]["table"]) == ["/first", "/last", "/middle"]


@pytest.mark.parametrize(("options", "says"), [
    ({"on_port": "wrk -d 5 http://127.0.0.1:$PORT/", "load": None}, "not available with --on-port"),
    ({"no_load": True, "load": None}, "without pinkclinic's load"),
    ({"load": "-c 10 -d 10 /"}, "the load traced no request"),
])
def test_without_a_trace_the_table_is_missing_and_says_why(tmp_path, options, says):
    s = Synth(tmp_path, options=options)
    s.processes(cores=0.3)
    d = s.diagnose()
    assert d["routes"]["table"] is None and says in d["routes"]["why"]
    assert "routes" in d["signals_missing"]
