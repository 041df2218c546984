"""HTTP/1.1 edge cases: chunked, Connection: close, HTTP/1.0, HEAD, 1xx, big bodies."""

from __future__ import annotations

from pinkclinic.load import run_load
from pinkclinic.loadargs import parse_bench_args


def load(url: str, *args: str):
    return run_load(parse_bench_args([*args, url]))


def test_chunked_bodies(serve):
    s = serve("count", "--chunked", "--body-size", "20")
    r = load(s.url, "-a", "300", "-c", "3", "-p", "4")
    assert r.requests == 300 == s.counts()["requests"]
    assert r.error_count == 0


def test_connection_close_reconnects_and_goes_on(serve):
    s = serve("count", "--close")
    r = load(s.url, "-a", "300", "-c", "4")
    assert r.requests == 300 == s.counts()["requests"]
    assert r.error_count == 0
    assert r.reconnects >= 290
    assert s.counts()["connections"] >= 300


def test_connection_close_with_pipelining_accounts_for_every_request(serve):
    # This server closes without reading the rest of the pipeline, so the kernel may
    # reset the connection before its answer is read: each request must end as exactly
    # one response or one error, and unanswered ones are sent again.
    s = serve("count", "--close")
    r = load(s.url, "-a", "200", "-c", "2", "-p", "4")
    assert r.requests + r.error_count == 200
    assert set(r.errors) <= {"reset"}
    assert r.requests > 0


def test_http10_body_ended_by_close(serve):
    s = serve("count", "--http10", "--body-size", "1000")
    r = load(s.url, "-a", "200", "-c", "4")
    assert r.requests == 200 == s.counts()["requests"]
    assert r.error_count == 0
    assert r.bytes > 200 * 1000


def test_head_responses_have_no_body(serve):
    s = serve("count", "--body-size", "5000")
    r = load(s.url, "-a", "300", "-c", "3", "-p", "3", "-m", "HEAD")
    assert r.requests == 300 == s.counts()["requests"]
    assert r.error_count == 0
    assert r.bytes < 300 * 1000


def test_head_and_get_mixed_in_a_pipelined_sequence(serve, tmp_path):
    s = serve("count", "--body-size", "3000")
    seq = tmp_path / "seq.json"
    seq.write_text('[{"method": "HEAD", "path": "/a"}, {"method": "GET", "path": "/b"},'
                   ' {"method": "HEAD", "path": "/c"}]')
    r = load(s.url, "-a", "300", "-c", "1", "-p", "5", "--requests", str(seq))
    assert r.requests == 300
    assert r.error_count == 0
    assert s.counts()["methods"] == {"HEAD": 200, "GET": 100}


def test_interim_1xx_is_not_the_response(serve):
    s = serve("count", "--continue")
    r = load(s.url, "-a", "200", "-c", "2", "-p", "2")
    assert r.status == {200: 200}
    assert r.error_count == 0


def test_big_bodies(serve):
    size = 3_000_000
    s = serve("count", "--body-size", str(size))
    r = load(s.url, "-a", "30", "-c", "2")
    assert r.requests == 30
    assert r.error_count == 0
    assert r.bytes >= 30 * size


def test_post_body_from_file(serve, tmp_path):
    s = serve("count", "--record")
    f = tmp_path / "body.json"
    f.write_text('{"hello": "world"}')
    r = load(s.url, "-a", "20", "-c", "2", "-m", "POST", "-i", str(f),
             "-H", "X-Test: yes")
    assert r.requests == 20
    c = s.counts()
    assert c["methods"] == {"POST": 20}
    assert set(c["bodies"]) == {'{"hello": "world"}'}
    assert c["headers"] == ["X-Test: yes"] * 20


def test_a_request_bigger_than_the_socket_buffer_goes_out_whole(serve, tmp_path):
    """The socket takes a 3 MB request in parts: the rest is sent as it makes room
    (sockets.Sock.wbuf), in order, before the next request of the connection."""
    s = serve("count", "--record")
    body = "".join(f"{i:07d}\n" for i in range(375_000))  # 3 MB, every part distinct
    f = tmp_path / "big.txt"
    f.write_text(body)
    r = load(s.url, "-a", "4", "-c", "2", "-p", "2", "-t", "5", "-m", "POST", "-i", str(f))
    assert r.requests == 4 and r.error_count == 0
    assert s.counts()["bodies"] == [body] * 4
