"""A chunk that repeats the last whole response is not parsed again (conn.py): every
way a repeated chunk could mean something else must still be counted exactly."""

from __future__ import annotations

from pinkclinic.load import run_load
from pinkclinic.load.http1.conn import H1Conn
from pinkclinic.loadargs import parse_bench_args


def load(url: str, *args: str):
    return run_load(parse_bench_args([*args, url]))


def test_identical_responses_are_each_counted(serve, monkeypatch):
    # the count server's answers are identical bytes: all but the first are repeats
    parses = []
    feed = H1Conn.answered

    def counting(self, status, keep_alive):
        parses.append(self.same is not None)
        feed(self, status, keep_alive)

    monkeypatch.setattr(H1Conn, "answered", counting)
    s = serve("count")
    r = load(s.url, "-a", "400", "-c", "2")
    assert r.requests == 400 == s.counts()["requests"]
    assert r.status == {200: 400}
    assert r.error_count == 0
    assert sum(parses) >= 300  # most answers came through the repeat path


def test_a_chunk_of_two_responses_counts_two(serve):
    # with -p 2 the server writes both answers at once: one chunk, two responses
    s = serve("count", "--batch", "2")
    r = load(s.url, "-a", "200", "-c", "2", "-p", "2", "-t", "2")
    assert r.requests == 200 == s.counts()["requests"]
    assert r.status == {200: 200}
    assert r.error_count == 0


def test_a_repeat_that_ended_another_message_is_parsed(serve):
    # every other answer is a 201 whose body is the 200's bytes: those bytes, arriving
    # after the 201's head, end the 201; arriving on their own, they are a 200
    s = serve("count", "--nested")
    r = load(s.url, "-a", "20", "-c", "1", "-t", "2")
    assert r.requests == 20 == s.counts()["requests"]
    assert r.status == {200: 10, 201: 10}
    assert r.error_count == 0


def test_changing_statuses_with_identical_lengths(serve):
    s = serve("count", "--status-every", "3:503")
    r = load(s.url, "-a", "300", "-c", "1")
    assert r.requests == 300
    assert r.status == {200: 200, 503: 100}
