"""``parse_bench_args``: bench's options as words (doctor's ``--load``), with bench's checks
and one-line errors."""

from __future__ import annotations

import pytest

from pinkclinic.errors import UsageError
from pinkclinic.load import LoadSpec
from pinkclinic.loadargs import parse_bench_args


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


def test_a_non_ascii_header_option_is_refused():
    with pytest.raises(UsageError):
        parse_bench_args(["-H", "X\xe9: v"], base_url="http://127.0.0.1:9")
