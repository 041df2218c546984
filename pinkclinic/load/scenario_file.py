"""The scenario file (artillery's model): phases of arrivals, and flows of requests.

.. code-block:: yaml

    config:                              # artillery's layout; the keys may also be top-level
      target: http://127.0.0.1:8000      # optional: a URL argument or `-- COMMAND` wins
      timeout: 10                        # seconds per request
      phases:
        - {name: warm-up, duration: 5, arrivalRate: 5}
        - {name: ramp, duration: 10, arrivalRate: 5, rampTo: 50}
        - {name: peak, duration: 10, arrivalRate: 50, maxVusers: 200}
    scenarios:
      - name: buy
        weight: 3                        # picked 3 times as often as a weight-1 flow
        flow:
          - post:
              url: /login
              json: {user: "user-{{ vu }}"}
              capture: {json: "$.token", as: token}
          - think: 0.5                   # seconds
          - get:
              url: /cart
              headers: {Authorization: "Bearer {{ token }}"}

``{{ name }}`` uses a value captured earlier in the same flow (``json`` takes a
path like ``$.a.b[0]``, ``header`` a response header), or ``vu``, the virtual
user's number. snake_case (``arrival_rate``, ``ramp_to``, ``max_vusers``) works too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from pinkclinic.load.suite_file import headers_of
from pinkclinic.load.yamlfile import Fields, NodeList, load_yaml

METHODS = ("get", "post", "put", "patch", "delete", "head")
TEMPLATE_RE = re.compile(r"\{\{\s*([A-Za-z_$][\w$]*)\s*\}\}")
JSONPATH_RE = re.compile(r"^\$((\.[A-Za-z_$][\w$-]*|\[\d+\]|\['[^']*'\]|\[\"[^\"]*\"\])*)$")
BUILTINS = {"vu"}


@dataclass
class Phase:
    name: str
    duration: float
    rate: float
    ramp_to: float | None = None
    max_vusers: int | None = None


@dataclass
class Capture:
    kind: str  # "json" or "header"
    expr: str
    name: str


@dataclass
class Step:
    method: str | None = None  # None: think
    url: str = "/"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str | None = None
    json_body: bool = False
    captures: list[Capture] = field(default_factory=list)
    think: float = 0.0
    line: int = 0


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


def _alias(f: Fields, *names: str) -> str | None:
    present = [n for n in names if n in f.node]
    if len(present) > 1:
        raise f.error(present[1], f"give either {present[0]} or {present[1]}, not both")
    return present[0] if present else None


def read_phase(f: Fields) -> Phase:
    f.only("name", "duration", "arrivalRate", "arrival_rate", "rampTo", "ramp_to",
           "maxVusers", "max_vusers")
    rate_key = _alias(f, "arrivalRate", "arrival_rate")
    if rate_key is None:
        raise f.error(None, "needs arrivalRate (virtual users per second)")
    ramp_key = _alias(f, "rampTo", "ramp_to")
    max_key = _alias(f, "maxVusers", "max_vusers")
    return Phase(name=str(f.get("name", (str, int), "")),
                 duration=f.number("duration", None) or _required(f, "duration"),
                 rate=f.number(rate_key, open_min=False),
                 ramp_to=f.number(ramp_key, open_min=False) if ramp_key else None,
                 max_vusers=f.number(max_key, integer=True, minimum=1, open_min=False)
                 if max_key else None)


def _required(f: Fields, key: str):
    raise f.error(None, f"{key} is required")


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(k) + _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def read_step(f: Fields, known: set[str]) -> Step:
    if "think" in f.node:
        f.only("think")
        return Step(think=f.number("think", open_min=False), line=f.line())
    methods = [k for k in f.node if k in METHODS]
    if len(methods) != 1 or len(f.node) != 1:
        raise f.error(None, f"a step is one of {', '.join(METHODS)} or think, "
                            f"got: {', '.join(map(str, f.node)) or 'nothing'}")
    method = methods[0]
    r = f.sub(method)
    r.only("url", "headers", "json", "body", "capture")
    url = r.get("url", str, required=True)
    if not url.startswith("/") and not url.startswith("{{"):
        raise r.error("url", f"{url!r} must be a path starting with /")
    if "json" in r.node and "body" in r.node:
        raise r.error("body", "give either json or body, not both")
    body, is_json = None, False
    if r.node.get("json") is not None:
        body, is_json = json.dumps(r.node["json"]), True
    elif r.node.get("body") is not None:
        body = str(r.node["body"])
    headers = headers_of(r)
    for key, texts in (("url", [url]), ("headers", _strings(r.node.get("headers"))),
                       ("json" if is_json else "body", _strings(r.node.get("json", body)))):
        for name in TEMPLATE_RE.findall(" ".join(texts)):
            if name not in known and name not in BUILTINS:
                raise r.error(key, f"{{{{ {name} }}}} is not captured by an earlier step")
    captures = []
    if r.node.get("capture") is not None:
        raw = r.node["capture"]
        items = raw if isinstance(raw, list) else [raw]
        for i, item in enumerate(items):
            c = Fields(f.path, item, r.field("capture") + (f"[{i}]" if isinstance(raw, list) else ""),
                       r.line("capture"))
            c.only("json", "header", "as")
            kind = _alias(c, "json", "header")
            if kind is None:
                raise c.error(None, "needs json: $.path or header: NAME")
            expr = c.get(kind, str)
            if kind == "json" and not JSONPATH_RE.match(expr):
                raise c.error("json", f"{expr!r} is not a path like $.token or $.items[0].id")
            captures.append(Capture(kind, expr, c.get("as", str, required=True)))
    known.update(c.name for c in captures)
    return Step(method=method.upper(), url=url, headers=headers, body=body, json_body=is_json,
                captures=captures, line=f.line())


def read_scenario(path: str) -> ScenarioFile:
    top = Fields(path, load_yaml(path, "scenario"), "")
    top.only("config", "scenarios", "target", "phases", "timeout")
    cfg = top.sub("config") if top.get("config", dict) is not None else top
    if cfg is not top:
        cfg.only("target", "phases", "timeout")
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
        known: set[str] = set()
        steps = [read_step(Fields(path, st, s.field(f"flow[{j}]"), steps_node.lines[j]), known)
                 for j, st in enumerate(steps_node)]
        flows.append(Flow(name=str(s.get("name", (str, int), f"scenario {i + 1}")),
                          weight=s.number("weight", 1, integer=True, minimum=1, open_min=False),
                          steps=steps))
    return ScenarioFile(path=path, phases=phases, flows=flows, target=cfg.get("target", str),
                        timeout=cfg.number("timeout", 10.0))


__all__ = ["Capture", "Flow", "NodeList", "Phase", "ScenarioFile", "Step", "read_scenario"]
