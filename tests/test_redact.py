"""pinkclinic.redact: what is masked, what is kept, and the probe's copy of the rules."""

from __future__ import annotations

import importlib.util

import pytest

from pinkclinic import redact
from tests.helpers import ROOT

# the probe's copy, loaded on its own (importing the probe package would start nothing,
# but it is not this process's to import)
_spec = importlib.util.spec_from_file_location(
    "probe_redact", ROOT / "pinkclinic" / "bootstrap" / "pinkclinic_probe" / "_redact.py")
probe_redact = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(probe_redact)


@pytest.mark.parametrize("name,value,want", [
    ("Authorization", "Bearer abc.def", "Bearer ***"),
    ("proxy-authorization", "Basic Zm9vOmJhcg==", "Basic ***"),
    ("Authorization", "abc", "***"),
    ("Cookie", "sid=1; theme=dark", "***"),
    ("Set-Cookie", "sid=1", "***"),
    ("X-Api-Key", "k", "***"),
    ("X-CSRF-Token", "t", "***"),
    ("X-Client-Secret", "s", "***"),
    ("Accept", "application/json", "application/json"),
    ("Content-Type", "text/plain", "text/plain"),
])
def test_header_values(name, value, want):
    assert redact.header_value(name, value) == want


@pytest.mark.parametrize("raw,want", [
    ("http://user:pw@127.0.0.1:8000/x", "http://user:***@127.0.0.1:8000/x"),
    ("http://monkey:8000/key:value", "http://monkey:8000/key:value"),
    ("/items?api_key=abc&page=2", "/items?api_key=***&page=2"),
    ("/search?q=token", "/search?q=token"),
    ("-H 'Authorization: Bearer x' -c 5", "-H 'Authorization: Bearer ***' -c 5"),
])
def test_text(raw, want):
    assert redact.text(raw) == want


ARGVS = [
    (["python", "app.py", "--token", "abc", "--port", "8000"],
     ["python", "app.py", "--token", "***", "--port", "8000"]),
    (["app", "--api-key=abc", "--keep-alive", "5"], ["app", "--api-key=***", "--keep-alive", "5"]),
    (["curl", "-H", "Cookie: a=b", "http://u:p@h/"], ["curl", "-H", "Cookie: ***", "http://u:***@h/"]),
    (["gunicorn", "-w", "2", "app:app"], ["gunicorn", "-w", "2", "app:app"]),
]


@pytest.mark.parametrize("raw,want", ARGVS)
def test_argv_and_the_probes_copy_agree(raw, want):
    assert redact.argv(raw) == want
    assert probe_redact.argv(raw) == want


def test_command_lines_are_redacted_word_by_word():
    load = '-c 20 -H "Authorization: Bearer s" -H "Cookie: a=b; c=d" -H "Accept: */*" /items'
    assert redact.command_line(load) == \
        "-c 20 -H 'Authorization: Bearer ***' -H 'Cookie: ***' -H 'Accept: */*' /items"
    assert redact.command_line("-c 20 -d 10") == "-c 20 -d 10"  # untouched when clean
    # the value of --load inside pinkclinic's own argv
    assert redact.argv(["doctor", "--load", "-H Cookie:x -c 1"]) == ["doctor", "--load", "-H 'Cookie:***' -c 1"]
    assert redact.spaced('python -c print(1) --secret s http://a:b@c/') == \
        "python -c print(1) --secret *** http://a:***@c/"
