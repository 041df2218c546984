"""``--requests`` sequences: each connection runs them from step 1, and the position
survives reconnects (autocannon's semantics); ``-m -H -b -i`` are defaults for every step."""

from __future__ import annotations

from collections import Counter

from pinkclinic.load import run_load
from pinkclinic.loadargs import parse_bench_args

ABC = "- path: /a\n- path: /b\n- path: /c\n"


def load(url: str, *args: str):
    return run_load(parse_bench_args([*args, url]))


def seq_file(tmp_path, text: str = ABC):
    f = tmp_path / "seq.yaml"
    f.write_text(text)
    return str(f)


def test_sequence_advances_across_reconnects_when_the_server_closes(serve, tmp_path):
    s = serve("count", "--close", "--record")
    r = load(s.url, "-a", "6", "-c", "1", "--requests", seq_file(tmp_path))
    assert r.requests == 6
    assert s.counts()["paths"] == ["/a", "/b", "/c", "/a", "/b", "/c"]


def test_sequence_over_http10_with_two_connections(serve, tmp_path):
    s = serve("count", "--http10", "--record")
    r = load(s.url, "-a", "6", "-c", "2", "--requests", seq_file(tmp_path))
    assert r.requests == 6
    paths = s.counts()["paths"]
    assert paths[:2] == ["/a", "/a"]  # a connection sends /b only once its /a is answered
    assert Counter(paths) == {"/a": 2, "/b": 2, "/c": 2}


def test_every_connection_starts_at_the_first_step(serve, tmp_path):
    s = serve("count", "--record")
    r = load(s.url, "-a", "4", "-c", "2", "--requests", seq_file(tmp_path))
    assert r.requests == 4
    paths = s.counts()["paths"]
    assert paths[:2] == ["/a", "/a"]
    assert Counter(paths) == {"/a": 2, "/b": 2}


def test_sequence_advances_after_a_timeout_reconnect(serve, tmp_path):
    # /b is never answered: it times out, the connection is replaced, and the new
    # connection goes on with /c (not /a again)
    s = serve("count", "--record", "--stall-path", "/b")
    r = load(s.url, "-a", "6", "-c", "1", "-t", "0.3", "--requests", seq_file(tmp_path))
    assert r.requests == 4 and r.timeouts == 2
    assert r.reconnects == 2
    assert s.counts()["paths"] == ["/a", "/b", "/c", "/a", "/b", "/c"]


def test_command_line_method_headers_and_body_are_defaults_for_each_step(serve, tmp_path):
    s = serve("count", "--record")
    f = seq_file(tmp_path, "- path: /a\n"
                           "- {path: /b, method: GET, headers: {x-global: '2'}, body: own}\n")
    r = load(s.url, "-a", "4", "-c", "1", "-H", "X-Global: 1", "-H", "X-Other: o",
             "-m", "POST", "-b", "hello", "--requests", f)
    assert r.requests == 4
    c = s.counts()
    assert c["methods"] == {"POST": 2, "GET": 2}
    assert c["paths"] == ["/a", "/b", "/a", "/b"]
    assert c["bodies"] == ["hello", "own", "hello", "own"]
    per_request = [h for h in c["headers"] if h.lower().startswith("x-global")]
    assert [h.split(": ")[1] for h in per_request] == ["1", "2", "1", "2"]  # the step's wins
    assert sum(h.startswith("X-Other") for h in c["headers"]) == 4


def test_input_file_is_the_default_body_of_each_step(serve, tmp_path):
    s = serve("count", "--record")
    body = tmp_path / "body.txt"
    body.write_text("from-file")
    f = seq_file(tmp_path, "- {path: /a, method: PUT}\n- {path: /b, method: POST, body: mine}\n")
    r = load(s.url, "-a", "2", "-c", "1", "-i", str(body), "--requests", f)
    assert r.requests == 2
    assert s.counts()["bodies"] == ["from-file", "mine"]
