"""bench --http2 against hypercorn: h2c with prior knowledge, TLS with ALPN, streams."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.helpers import run_cli


def bench_json(*args: str) -> dict:
    proc = run_cli("bench", "-j", "--http2", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_h2c_counts_are_exact_and_really_http2(serve):
    s = serve("h2_app.py")
    r = bench_json("-c", "2", "--streams", "5", "-a", "400", s.url + "/")
    assert r["requests"]["total"] == 400
    assert r["statusCodeStats"] == {"200": {"count": 400}}
    assert r["protocol"] == "h2" and r["streams"] == 5 and r["errors"] == 0
    assert s.counts() == {"2": 400}  # none fell back to HTTP/1.1
    assert r["latency"]["p50"] > 0


def test_h2_duration_and_rate(serve):
    s = serve("h2_app.py")
    r = bench_json("-c", "2", "--streams", "2", "-d", "2", "-R", "150", s.url + "/")
    assert abs(r["requests"]["total"] - 300) <= 15
    assert s.counts()["2"] == r["requests"]["total"]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_tls_with_alpn(serve, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    s = serve("h2_app.py", str(cert), str(key))
    r = bench_json("-c", "2", "--streams", "3", "-a", "120", f"https://127.0.0.1:{s.port}/")
    assert r["requests"]["total"] == 120 and r["errors"] == 0


def test_h2_option_errors():
    for args in (["--http2", "-p", "4", "http://127.0.0.1:9/"],
                 ["--http2", "-w", "2", "http://127.0.0.1:9/"],
                 ["--streams", "4", "http://127.0.0.1:9/"],
                 ["--http2", "ftp://127.0.0.1:9/"]):
        proc = run_cli("bench", *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_h2_refused_is_one_line():
    from tests.helpers import free_port

    proc = run_cli("bench", "--http2", "-c", "2", "-d", "3", f"http://127.0.0.1:{free_port()}/")
    assert proc.returncode == 1 and "refused" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_goaway_is_accounted_for_exactly(serve):
    # hypercorn ends each connection after 300 requests with a GOAWAY (and drops the
    # streams it had in progress): every request is either answered or a counted error
    s = serve("h2_app.py", env={"H2_MAX_REQUESTS": "300"})
    r = bench_json("-c", "1", "--streams", "4", "-a", "1000", s.url + "/")
    assert r["requests"]["total"] + r["errors"] == 1000
    assert set(r["errorsByKind"]) <= {"goaway", "reset"} and r["errors"] > 0
    assert s.counts()["2"] >= r["requests"]["total"]


def stats(s) -> dict:
    import urllib.request

    with urllib.request.urlopen(f"{s.url}/__stats", timeout=10) as r:
        return json.loads(r.read())


@pytest.mark.parametrize("size", [20 * 1024, 300_000])
def test_bodies_over_the_frame_size_and_the_window(serve, tmp_path, size):
    # 20 KiB is over h2's 16 KiB frame; 300 kB is over the 65,535-byte flow-control window
    s = serve("h2_app.py")
    body = tmp_path / "body"
    body.write_bytes(b"b" * size)
    r = bench_json("-c", "2", "--streams", "3", "-a", "30", "-m", "POST", "-i", str(body),
                   s.url + "/")
    assert r["requests"]["total"] == 30 and r["errors"] == 0, r["errorsByKind"]
    assert r["statusCodeStats"] == {"200": {"count": 30}}
    assert stats(s)["body_bytes"] == 30 * size  # every byte of every body arrived


def test_streams_are_capped_at_the_servers_limit(serve):
    s = serve("h2_app.py", env={"H2_MAX_STREAMS": "4"})
    proc = run_cli("bench", "-j", "--http2", "-c", "1", "--streams", "10", "-a", "300",
                   s.url + "/")
    assert proc.returncode == 0, proc.stderr
    r = json.loads(proc.stdout)
    assert r["requests"]["total"] == 300 and r["errors"] == 0, r["errorsByKind"]
    assert (r["streams"], r["streamsAsked"], r["serverMaxStreams"]) == (4, 10, 4)
    assert any("SETTINGS_MAX_CONCURRENT_STREAMS: 4 streams" in n for n in r["notes"])
    assert stats(s)["max_inflight"] <= 4


def test_warmup_with_amount_counts_only_after_the_warmup(serve):
    """As in HTTP/1.1: -a counts the requests after the warm-up."""
    s = serve("h2_app.py")
    r = bench_json("-c", "2", "--streams", "3", "--warmup", "0.5", "-a", "300", s.url + "/")
    assert r["requests"]["total"] == 300 and r["errors"] == 0
    assert s.counts()["2"] > 330  # the warm-up's requests reached the server, uncounted
