"""The scenario file (artillery's model): phases of arrivals, and flows of requests.

.. code-block:: yaml

    config:                              # artillery's layout; the keys may also be top-level
      target: http://127.0.0.1:8000      # optional: a URL argument or `-- COMMAND` wins
      timeout: 10                        # seconds per request
      phases:
        - {name: warm-up, duration: 5, arrivalRate: 5}
        - {name: ramp, duration: 10s, arrivalRate: 5, rampTo: 50}
        - {name: peak, duration: 10, arrivalRate: 50, maxVusers: 200}
        - {pause: 5}                       # no arrivals for 5 s
        - {name: last, duration: 1m, arrivalCount: 30}   # 30 users over the minute
    scenarios:
      - name: buy
        weight: 3                        # picked 3 times as often as a weight-1 flow
        flow:
          - post:
              url: /login
              json: {user: "user-{{ vu }}"}
              capture: {json: "$.token", as: token}
          - think: 0.5                   # seconds
          - loop:
              - get:
                  url: /cart
                  headers: {Authorization: "Bearer {{ token }}"}
            count: 3

``{{ name }}`` uses a value captured earlier in the same flow (``json`` takes a
path like ``$.a.b[0]``, ``header`` a response header, ``regexp`` a pattern searched
in the body, with ``group`` and ``flags``), or ``vu``, the virtual
user's number. snake_case (``arrival_rate``, ``ramp_to``, ``max_vusers``) works too.
Durations are seconds, or strings such as ``"500ms"``, ``"30s"``, ``"2m"``; the
request timeout may also be given as artillery's ``config.http.timeout``. The
steps are read by :mod:`pinkclinic.load.scenario.steps`.
"""

from __future__ import annotations

from dataclasses import dataclass

from pinkclinic.load.core.yamlfile import Fields, NodeList, load_yaml, url_of
from pinkclinic.load.scenario.steps import TEMPLATE_RE, Capture, Step, alias, read_steps, seconds


@dataclass
class Phase:
    name: str
    duration: float
    rate: float
    ramp_to: float | None = None
    max_vusers: int | None = None


@dataclass
class Flow:
    name: str
    weight: int
    steps: list[Step]


@dataclass
class ScenarioFile:
    path: str
    phases: list[Phase]
    flows: list[Flow]
    target: str | None = None
    timeout: float = 10.0


def read_phase(f: Fields) -> Phase:
    if "pause" in f.node:  # artillery's {pause: 10}: no arrivals for 10 s
        f.only("name", "pause")
        return Phase(name=str(f.get("name", (str, int), "pause")), duration=seconds(f, "pause"),
                     rate=0.0)
    f.only("name", "duration", "arrivalRate", "arrival_rate", "rampTo", "ramp_to",
           "arrivalCount", "arrival_count", "maxVusers", "max_vusers")
    rate_key = alias(f, "arrivalRate", "arrival_rate")
    count_key = alias(f, "arrivalCount", "arrival_count")
    if rate_key and count_key:
        raise f.error(count_key, f"give either {rate_key} or {count_key}, not both")
    if rate_key is None and count_key is None:
        raise f.error(None, "needs arrivalRate (virtual users per second), arrivalCount "
                            "(users over the phase) or pause (seconds)")
    ramp_key = alias(f, "rampTo", "ramp_to")
    if ramp_key and count_key:
        raise f.error(ramp_key, f"{ramp_key} goes with arrivalRate, not {count_key}")
    max_key = alias(f, "maxVusers", "max_vusers")
    if "duration" not in f.node or f.node["duration"] is None:
        raise f.error(None, "duration is required")
    duration = seconds(f, "duration")
    if count_key:  # spread evenly over the phase
        rate = f.number(count_key, integer=True, minimum=0, open_min=False) / duration
    else:
        rate = f.number(rate_key, open_min=False)
    return Phase(name=str(f.get("name", (str, int), "")), duration=duration, rate=rate,
                 ramp_to=f.number(ramp_key, open_min=False) if ramp_key else None,
                 max_vusers=f.number(max_key, integer=True, minimum=1, open_min=False)
                 if max_key else None)


def read_scenario(path: str) -> ScenarioFile:
    top = Fields(path, load_yaml(path, "scenario"), "")
    top.only("config", "scenarios", "target", "phases", "timeout", "http")
    cfg = top.sub("config") if top.get("config", dict) is not None else top
    if cfg is not top:
        cfg.only("target", "phases", "timeout", "http")
    timeout = cfg.number("timeout", None)
    if cfg.get("http", dict) is not None:
        http = cfg.sub("http")
        http.only("timeout")
        if timeout is not None and "timeout" in http.node:
            raise http.error("timeout", f"give either {cfg.field('timeout')} or this, not both")
        timeout = http.number("timeout", None)
    phases_node = cfg.get("phases", list, required=True)
    if not phases_node:
        raise cfg.error("phases", "must list at least one phase")
    phases = [read_phase(Fields(path, n, cfg.field(f"phases[{i}]"), phases_node.lines[i]))
              for i, n in enumerate(phases_node)]
    for i, ph in enumerate(phases):
        ph.name = ph.name or f"phase {i + 1}"
    flows_node = top.get("scenarios", list, required=True)
    if not flows_node:
        raise top.error("scenarios", "must list at least one scenario")
    flows = []
    for i, n in enumerate(flows_node):
        s = Fields(path, n, f"scenarios[{i}]", flows_node.lines[i])
        s.only("name", "weight", "flow")
        steps_node = s.get("flow", list, required=True)
        if not steps_node:
            raise s.error("flow", "must have at least one step")
        steps = read_steps(path, steps_node, s, "flow", set())
        flows.append(Flow(name=str(s.get("name", (str, int), f"scenario {i + 1}")),
                          weight=s.number("weight", 1, integer=True, minimum=1, open_min=False),
                          steps=steps))
    return ScenarioFile(path=path, phases=phases, flows=flows,
                        target=url_of(cfg, "target", ("http",)),
                        timeout=10.0 if timeout is None else timeout)


__all__ = ["TEMPLATE_RE", "Capture", "Flow", "NodeList", "Phase", "ScenarioFile", "Step",
           "read_scenario"]
