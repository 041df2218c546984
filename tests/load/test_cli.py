"""``pinkclinic bench`` and ``parse_bench_args``: options, errors, output, Ctrl-C."""

from __future__ import annotations

import re
import signal
import subprocess
import time

import pytest

from pinkclinic.errors import UsageError
from pinkclinic.load import LoadSpec
from pinkclinic.loadargs import parse_bench_args
from tests.helpers import pinkclinic_cmd, run_cli


def test_parse_bench_args_joins_the_path_to_the_base_url():
    spec = parse_bench_args(["-c", "20", "-d", "10", "-c", "50", "-R", "500", "/items?id=[<id>]"],
                            base_url="http://127.0.0.1:8123")
    assert isinstance(spec, LoadSpec)
    assert spec.url == "http://127.0.0.1:8123/items?id=[<id>]"
    assert (spec.connections, spec.duration, spec.rate) == (50, 10.0, 500.0)  # last one wins
    assert spec.path == "/items?id=[<id>]"


def test_parse_bench_args_defaults_to_the_root_and_takes_a_string():
    spec = parse_bench_args('-H "X-A: b c" -m post -b hi', base_url="http://127.0.0.1:9/x/y")
    assert spec.url == "http://127.0.0.1:9/"
    assert spec.headers == [("X-A", "b c")] and spec.method == "POST" and spec.body == b"hi"
    assert parse_bench_args(["http://127.0.0.1:7/z"]).url == "http://127.0.0.1:7/z"


@pytest.mark.parametrize("argv, words", [
    (["-c", "zero"], "connections"),
    (["-c", "0"], "connections"),
    (["--bogus"], "bogus"),
    (["-j"], "-j"),
    (["-H", "novalue"], "header"),
    (["-w", "5", "-c", "2"], "workers"),
    (["--no-correction"], "--rate"),
    (["items"], "must start with /"),
])
def test_parse_bench_args_rejects_bad_options_with_one_line(argv, words):
    with pytest.raises(UsageError) as e:
        parse_bench_args(argv, base_url="http://127.0.0.1:9")
    assert words in str(e.value)
    assert "\n" not in str(e.value)
    assert e.value.exit_code == 2


def test_parse_bench_args_needs_a_base_url_for_a_path():
    with pytest.raises(UsageError):
        parse_bench_args(["/x"])


@pytest.mark.parametrize("args", [
    ["bench", "-c", "-3", "http://127.0.0.1:9/"],
    ["bench", "http://[::1"],
    ["bench", "ftp://127.0.0.1/"],
    ["bench", "https://127.0.0.1/"],
    ["bench", "-i", "/no/such/file", "http://127.0.0.1:9/"],
    ["bench", "--requests", "/no/such.yaml", "http://127.0.0.1:9/"],
    ["bench"],
])
def test_bad_input_is_one_line_and_exit_2(args):
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_requests_file(tmp_path):
    f = tmp_path / "r.yaml"
    f.write_text("- {method: GET, paht: /x}\n")
    proc = run_cli("bench", "--requests", str(f), "http://127.0.0.1:9/")
    assert proc.returncode == 2 and "paht" in proc.stderr


def test_help_explains_the_rate_correction():
    proc = run_cli("bench", "--help", check=True)
    text = " ".join(proc.stdout.split())
    assert "intended send time" in text and "--no-correction" in text


def test_tables_and_full_latency(serve):
    s = serve("count")
    proc = run_cli("bench", "-a", "500", "-c", "4", "-l", s.url, check=True)
    out = proc.stdout
    assert "Running 500 requests test @" in out
    for word in ("Latency", "Req/Sec", "Bytes/Sec", "99.999%", "# of samples"):
        assert word in out
    assert re.search(r"500 requests in [\d.]+s, [\d.]+ kB read", out), out
    # sub-millisecond latencies keep two decimals
    assert re.search(r"│ Latency +│ +\d+\.\d\d ms", out), out
    assert " 0 ms" not in out


def test_ctrl_c_prints_the_results_so_far(serve):
    s = serve("count")
    proc = subprocess.Popen(pinkclinic_cmd("bench", "-d", "60", "-c", "4", "-j", s.url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert '"interrupted": true' in out
    assert '"total": 0' not in out
    assert "Traceback" not in err


def test_ctrl_c_with_workers(serve):
    s = serve("count")
    proc = subprocess.Popen(pinkclinic_cmd("bench", "-d", "60", "-c", "4", "-w", "2", s.url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted after" in out and "requests in" in out
    assert "Traceback" not in err


@pytest.mark.parametrize("text, seconds", [("10", 10.0), ("10s", 10.0), ("1m", 60.0),
                                           ("500ms", 0.5), ("2.5", 2.5), ("1h", 3600.0)])
def test_durations_take_units_like_wrk_and_autocannon(text, seconds):
    spec = parse_bench_args(["-d", text, "-t", text, "--warmup", text],
                            base_url="http://127.0.0.1:9")
    assert spec.duration == spec.timeout == spec.warmup == seconds


@pytest.mark.parametrize("argv, words", [
    (["-d", "inf"], "duration"), (["-d", "nan"], "duration"), (["-d", "0"], "duration"),
    (["-d", "10x"], "duration"), (["-t", "inf"], "timeout"), (["-t", "nan"], "timeout"),
    (["-R", "inf"], "rate"), (["-R", "nan"], "rate"), (["-R", "0"], "rate"),
    (["-R", "-5"], "rate"), (["--warmup", "inf"], "warmup"),
])
def test_infinite_nan_and_negative_numbers_are_refused(argv, words):
    with pytest.raises(UsageError) as e:
        parse_bench_args(argv, base_url="http://127.0.0.1:9")
    assert words in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("args", [["-d", "inf"], ["-t", "nan"], ["-R", "inf"], ["-d", "-1"]])
def test_bad_numbers_on_the_command_line_are_one_line_and_exit_2(args):
    proc = run_cli("bench", *args, "http://127.0.0.1:9/")
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


@pytest.mark.parametrize("name, content, words", [
    ("latin1.yaml", "- path: /caf\xe9\n".encode("latin-1"), "not UTF-8"),
    ("bin.yaml", b"- path: /x\n  method: POST\n  body: !!binary aGVsbG8=\n", "binary"),
    ("hdr.json", '[{"path": "/x", "headers": {"X\xe9": "v"}}]'.encode(), "invalid header"),
    ("nl.json", b'[{"path": "/x", "headers": {"X-A": "a\\r\\nX-B: b"}}]', "invalid header"),
])
def test_bad_request_files_are_one_line_and_exit_2(tmp_path, name, content, words):
    f = tmp_path / name
    f.write_bytes(content)
    proc = run_cli("bench", "-a", "1", "--requests", str(f), "http://127.0.0.1:9/")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], proc.stderr
    assert "internal error" not in proc.stderr


def test_a_non_ascii_header_option_is_refused():
    with pytest.raises(UsageError):
        parse_bench_args(["-H", "X\xe9: v"], base_url="http://127.0.0.1:9")


def test_run_load_inside_a_running_loop_says_what_to_use_instead():
    import asyncio
    import warnings

    from pinkclinic.load import run_load

    spec = parse_bench_args(["-a", "1"], base_url="http://127.0.0.1:9")

    async def main():
        with pytest.raises(RuntimeError, match=r"await run_load_async"):
            run_load(spec)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 'coroutine ... was never awaited'
        asyncio.run(main())
