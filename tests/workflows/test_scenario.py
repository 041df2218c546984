"""bench --scenario: phased arrival rates honoured, captured values reused, bad files."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_cli

SCENARIO = """
config:
  phases:
    - {name: slow, duration: 1.5, arrivalRate: 20}
    - {name: fast, duration: 1.5, arrival_rate: 60}
scenarios:
  - name: login then cart
    flow:
      - post:
          url: /login
          json: {user: "u{{ vu }}"}
          capture: {json: "$.token", as: token}
      - get:
          url: /cart
          headers: {Authorization: "Bearer {{ token }}"}
"""


def test_two_phases_honour_their_arrival_rates(serve, tmp_path):
    s = serve("shop.py")
    f = tmp_path / "s.yaml"
    f.write_text(SCENARIO)
    proc = run_cli("bench", "--scenario", str(f), "-j", s.url)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    slow, fast = data["phases"]
    for ph, rate in ((slow, 20), (fast, 60)):
        assert ph["vusers"]["created"] == rate * 1.5
        assert abs(ph["arrivalRate"]["achieved"] - rate) <= rate * 0.05, ph
        assert ph["vusers"]["failed"] == 0
    tot = data["total"]
    assert tot["vusers"] == {"created": 120, "completed": 120, "failed": 0, "skipped": 0}
    assert tot["requests"]["total"] == 240
    # the captured token was sent back: every cart answer was a 200, none a 401
    assert tot["statusCodeStats"] == {"200": {"count": 240}}
    assert s.counts() == {"POST /login": 120, "GET /cart": 120}
    assert tot["latency"]["p50"] > 0


def test_regexp_captures_a_group_and_the_value_is_sent_back(serve, tmp_path):
    s = serve("shop.py")
    f = tmp_path / "s.yaml"
    f.write_text("phases: [{duration: 1, arrivalRate: 5}]\nscenarios:\n  - flow:\n"
                 "      - post:\n          url: /login\n          json: {user: 'u{{ vu }}'}\n"
                 "          capture:\n"
                 "            - {regexp: '\"TOKEN\": *\"(?P<t>tok-[^\"]+)\"', flags: i, group: t, as: token}\n"
                 "            - {regexp: 'u\\d+', as: who}\n"
                 "      - get:\n          url: '/cart?who={{ who }}'\n"
                 "          headers: {Authorization: 'Bearer {{ token }}'}\n"
                 "      - get: {url: /items, capture: {regexp: 'no such thing', as: x}}\n")
    data = json.loads(run_cli("bench", "--scenario", str(f), "-j", s.url, check=True).stdout)
    tot = data["total"]
    # every cart answer was a 200 (the captured token went back); the last capture failed
    assert tot["statusCodeStats"] == {"200": {"count": 15}}
    assert tot["vusers"]["failed"] == 5 and tot["errorsByKind"] == {"capture": 5}
    assert s.counts() == {"POST /login": 5, "GET /cart": 5, "GET /items": 5}


def test_failed_capture_fails_the_user(serve, tmp_path):
    s = serve("shop.py")
    f = tmp_path / "s.yaml"
    f.write_text("phases: [{duration: 1, arrivalRate: 10}]\n"
                 "scenarios:\n  - flow:\n      - get: {url: /items, capture: {json: $.nope, as: x}}\n")
    data = json.loads(run_cli("bench", "--scenario", str(f), "-j", s.url, check=True).stdout)
    assert data["total"]["vusers"]["failed"] == 10
    assert data["total"]["errorsByKind"] == {"capture": 10}


@pytest.mark.parametrize("text, where", [
    ("phases: [{duration: 1}]\nscenarios: [{flow: [{get: {url: /}}]}]\n",
     ":1: phases[0]: needs arrivalRate"),
    ("phases:\n  - {duration: 1, arrivalRate: 1}\nscenarios:\n  - flow:\n      - fetch: {url: /}\n",
     ":5: scenarios[0].flow[0]: a step is one of"),
    ("phases:\n  - {duration: 1, arrivalRate: 1}\nscenarios:\n  - flow:\n      - get:\n"
     "          url: /\n          headers: {X: '{{ token }}'}\n",
     ":7: scenarios[0].flow[0].get.headers: {{ token }} is not captured"),
    ("config:\n  phases:\n    - {duration: -2, arrivalRate: 1}\nscenarios: [{flow: [{think: 1}]}]\n",
     ":3: config.phases[0].duration: must be more than 0"),
    ("phases: [{duration: 1, arrivalRate: 1}]\n", ":1: scenarios: is required"),
    ("phases: [{duration: .inf, arrivalRate: 1}]\nscenarios: [{flow: [{think: 1}]}]\n",
     ":1: phases[0].duration: must be a finite number"),
    ("phases: [{duration: 1, arrivalRate: .nan}]\nscenarios: [{flow: [{think: 1}]}]\n",
     ":1: phases[0].arrivalRate: must be a finite number"),
    ("target: 'http://[::1'\nphases: [{duration: 1, arrivalRate: 1}]\n"
     "scenarios: [{flow: [{think: 1}]}]\n", ":1: target: invalid URL"),
    ("phases: [{duration: 1, arrivalRate: 1}]\nscenarios:\n  - flow:\n"
     "      - get: {url: /, headers: {Bad Header: v}}\n",
     ":4: scenarios[0].flow[0].get.headers: invalid header 'Bad Header'"),
    ("phases: [{duration: 1, arrivalRate: 1}]\nscenarios:\n  - flow:\n      - get: {url: /a b}\n",
     ":4: scenarios[0].flow[0].get.url: '/a b' has spaces"),
    ("phases: [{duration: 1, arrivalRate: 1}]\nscenarios:\n  - flow:\n"
     "      - loop: [{get: {url: /}}]\n", ":4: scenarios[0].flow[0]: a loop needs count"),
    ("phases: [{duration: soon, arrivalRate: 1}]\nscenarios: [{flow: [{think: 1}]}]\n",
     ":1: phases[0].duration: 'soon' is not a duration"),
    ("phases:\n  - duration: 1\n    duration: 2\n    arrivalRate: 1\n"
     "scenarios: [{flow: [{think: 1}]}]\n", ":3: invalid YAML: duplicate key 'duration'"),
    ("phases: [{duration: 1, arrivalRate: 1}]\nscenarios:\n  - flow:\n"
     "      - get: {url: /, capture: {regexp: 'id=(\\d+', as: id}}\n",
     ":4: scenarios[0].flow[0].get.capture.regexp: 'id=(\\d+' is not a regular expression"),
    ("phases: [{duration: 1, arrivalRate: 1}]\nscenarios:\n  - flow:\n"
     "      - get: {url: /, capture: {regexp: 'id=(\\d+)', group: 2, as: id}}\n",
     ":4: scenarios[0].flow[0].get.capture.group: 2 is not a group"),
])
def test_malformed_scenario_names_file_line_and_field(tmp_path, text, where):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    proc = run_cli("bench", "--scenario", str(f), "http://127.0.0.1:9")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{f}{where}" in lines[0], lines[0]


def test_phase_names_are_printed_as_written(serve, tmp_path):
    s = serve("shop.py")
    f = tmp_path / "s.yaml"
    f.write_text('phases:\n  - {name: "[/]", duration: 0.5, arrivalRate: 4}\n'
                 '  - {name: "[bold]p2", duration: 0.5, arrivalRate: 4}\n'
                 "scenarios:\n  - flow:\n      - get: {url: /}\n")
    proc = run_cli("bench", "--scenario", str(f), s.url)
    assert proc.returncode == 0, proc.stderr
    assert "│ [/]  " in proc.stdout and "│ [bold]p2 " in proc.stdout


ARTILLERY = """
config:
  target: {url}
  http: {{timeout: 3}}
  phases:
    - {{name: count, duration: 500ms, arrivalCount: 5}}
    - {{pause: 0.3}}
    - {{name: rate, duration: "0.5s", arrivalRate: 10}}
scenarios:
  - flow:
      - loop:
          - get: {{url: /items}}
          - think: 10ms
        count: 2
"""


def test_artillery_pause_arrival_count_loop_and_durations(serve, tmp_path):
    s = serve("shop.py")
    f = tmp_path / "s.yaml"
    f.write_text(ARTILLERY.format(url=s.url))
    data = json.loads(run_cli("bench", "--scenario", str(f), "-j", check=True).stdout)
    assert [p["vusers"]["created"] for p in data["phases"]] == [5, 0, 5]
    assert data["total"]["vusers"]["completed"] == 10
    assert s.counts() == {"GET /items": 20}  # each user looped twice


def test_target_path_is_a_prefix_and_captured_values_are_encoded(serve, tmp_path):
    s = serve("shop.py")
    f = tmp_path / "s.yaml"
    # the 404's Content-Type is "text/plain; charset=utf-8": its space must be encoded
    f.write_text(f"config:\n  target: {s.url}/api\n  phases: [{{duration: 1, arrivalRate: 3}}]\n"
                 "scenarios:\n  - flow:\n"
                 "      - get: {url: /nothing, capture: {header: content-type, as: ct}}\n"
                 "      - get: {url: '/items?ct={{ ct }}'}\n")
    data = json.loads(run_cli("bench", "--scenario", str(f), "-j", check=True).stdout)
    assert data["total"]["statusCodeStats"] == {"404": {"count": 6}}  # no 400: well-formed
    assert s.counts() == {"GET /api/nothing": 3, "GET /api/items": 3}


def test_skipped_arrivals_are_not_counted_as_achieved(serve, tmp_path):
    s = serve("shop.py")
    f = tmp_path / "s.yaml"
    f.write_text("phases: [{duration: 1, arrivalRate: 20, maxVusers: 1}]\n"
                 "scenarios: [{flow: [{get: {url: /}}, {think: 1.5}]}]\n")
    data = json.loads(run_cli("bench", "--scenario", str(f), "-j", s.url, check=True).stdout)
    ph = data["phases"][0]
    assert ph["vusers"]["created"] == 1 and ph["vusers"]["skipped"] == 19
    assert ph["arrivalRate"]["achieved"] <= 2


def test_a_server_that_dies_is_not_an_interrupt(tmp_path):
    from tests.workflows.conftest import sample_cmd

    f = tmp_path / "s.yaml"
    f.write_text("phases:\n  - {name: first, duration: 1, arrivalRate: 2}\n"
                 "  - {name: second, duration: 1, arrivalRate: 2}\n"
                 "scenarios: [{flow: [{get: {url: /die}}]}]\n")
    proc = run_cli("bench", "--scenario", str(f), "--", *sample_cmd("shop.py", "0"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "the server died during the scenario" in proc.stderr
    assert "interrupted" not in proc.stdout
    second = [ln for ln in proc.stdout.splitlines() if ln.startswith("│ second")]
    assert second and all(c.strip() == "–" for c in second[0].split("│")[2:-1]), proc.stdout
