"""Recommendations: the next command to run is the same run under another tool, quoted for a
shell, and the advice when there was not enough data fits how the run went."""

import shlex

import pytest

from pinkclinic.analysis.recommend import insufficient_advice, next_command, recommendation
from pinkclinic.recording import Recording


def rec_with(tmp_path, *, options=None, target=None, command=("python", "app.py"), status=None):
    rec = Recording.create(tmp_path, "r", "doctor", command=list(command), options=options or {})
    rec.update(target=target or {"pid": 4242, "attached": False},
               status=status or {"outcome": "completed", "detail": ""})
    return rec


@pytest.mark.parametrize("options, args", [
    ({"load": "-c 20 -d 5 /items"}, ["--load", "-c 20 -d 5 /items"]),
    ({"on_port": "k6 run x.js"}, ["--on-port", "k6 run x.js"]),
    ({"no_load": True}, ["--no-load"]),
    ({}, []),
])
def test_next_command_repeats_the_run_s_load(tmp_path, options, args):
    rec = rec_with(tmp_path, options=options, command=["python", "my app.py", "--port", "$(id)"])
    cmd = next_command(rec, "flame", "--idle")
    head, _, tail = cmd.partition(" -- ")
    assert shlex.split(head) == ["pinkclinic", "flame", "--idle", *args]
    assert shlex.split(tail) == ["python", "my app.py", "--port", "$(id)"]  # quoted, not run


def test_next_command_of_an_attached_target_names_the_pid(tmp_path):
    rec = rec_with(tmp_path, options={"load": "-d 5"}, target={"pid": 777, "attached": True})
    assert next_command(rec, "heap") == "pinkclinic heap --load '-d 5' --pid 777"


@pytest.mark.parametrize("category, words, tool", [
    ("loop-cpu", "Move the CPU work in hot() off the event loop", "pinkclinic flame --load"),
    ("loop-blocking-call", "Replace the blocking call in hot()", "pinkclinic flame --idle"),
    ("io-wait", "The server waits on something outside (in hot())", "pinkclinic waits --load"),
    ("pool-exhausted", "Requests queue for a pool in hot()", "pinkclinic waits --load"),
    ("lock-contention", "Requests serialise on a lock in hot()", "pinkclinic waits --load"),
    ("gc-pressure", "Allocate fewer container objects per request in hot()", "pinkclinic heap"),
    ("memory-leak", "Find the allocation site that keeps growing", "pinkclinic heap"),
    ("gil-contention", "Threads wait for the GIL", "pinkclinic flame --load"),
    ("healthy", "Nothing stands out", "pinkclinic flame --load"),
])
def test_each_category_s_advice_and_next_tool(tmp_path, category, words, tool):
    text = recommendation(rec_with(tmp_path, options={"load": "-d 5"}), category, "hot")
    assert words in text and tool in text and text.endswith("-- python app.py")


def test_without_a_culprit_the_advice_points_at_the_code_named(tmp_path):
    assert "in the code named above" in recommendation(rec_with(tmp_path), "loop-cpu", None)


@pytest.mark.parametrize("outcome, reason, options, words", [
    ("interrupted", "window", {}, "The run was interrupted (Ctrl-C)"),
    ("target-crashed", "samples", {}, "The target ended during the run"),
    ("target-exited", "window", {}, "The target ended during the run"),
    ("error", "samples", {}, "The run failed"),
    ("completed", "traffic", {"load": "-d 5 /nope"}, "Most of the load failed"),
    ("completed", "traffic", {"no_load": True}, "Send the server its usual traffic"),
    ("completed", "samples", {}, "Run a longer or heavier load"),
    ("completed", "window", {}, "Run a longer or heavier load"),
])
def test_insufficient_advice_fits_the_run(tmp_path, outcome, reason, options, words):
    rec = rec_with(tmp_path, options=options, status={"outcome": outcome, "detail": ""})
    assert insufficient_advice(rec, reason).startswith(words)
    if outcome == "interrupted":
        assert "pinkclinic doctor -- python app.py" in insufficient_advice(rec, reason)
