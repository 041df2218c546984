"""``pinkclinic bench``'s command line: bad options, URLs and files are one line and exit 2;
the help explains the rate correction."""

from __future__ import annotations

import pytest

from tests.helpers import run_cli


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
