"""The rounds of ``pinkclinic compare``: A, B, A, B, ... each side started (if a command),
loaded, measured with psutil and stopped in turn, so that drift on a noisy machine
hits both sides alike. Also reads saved ``bench --json`` / ``--suite --json`` files.

A round that breaks (the server dies, answers nothing, an endpoint is not run) is
kept as a *problem* of its side, and what was measured is still compared. A side
that cannot start ends the rounds: starting it again would fail the same way.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pinkclinic import jsonio
from pinkclinic.errors import PinkError, UsageError
from pinkclinic.load.core.urls import check_base
from pinkclinic.load.protocols import run_spec
from pinkclinic.loadargs import parse_compare_load
from pinkclinic.workflows.compare import SINGLE, metrics_of
from pinkclinic.workflows.server import ServerUnderTest
from pinkclinic.workflows.suite import run_suite


@dataclass
class Side:
    name: str  # "A" or "B"
    command: list[str] | None = None
    url: str | None = None
    pid: int | None = None
    rounds: list[dict] = field(default_factory=list)  # [{section: {metric: value}}]
    broke: dict[str, list[int]] = field(default_factory=dict)  # what broke -> in which rounds

    def problem(self, what: str, index: int | None = None) -> None:
        self.broke.setdefault(what, []).extend([] if index is None else [index + 1])

    @property
    def problems(self) -> list[str]:
        """One line per thing that broke, with the rounds it broke in."""
        out = []
        for what, rounds in self.broke.items():
            when = (f" round{'s' * (len(rounds) > 1)} {', '.join(map(str, rounds))}"
                    if rounds else "")
            out.append(f"{self.name} ({self.label}){when}: {what}")
        return out

    @property
    def label(self) -> str:
        return shlex.join(self.command) if self.command else (self.url or "?")

    @classmethod
    def parse(cls, name: str, text: str, pid: int | None = None) -> Side:
        """A URL (``http://...``, ``host:port``) or a shell-quoted command."""
        text = text.strip()
        if not text:
            raise UsageError(f"--{name.lower()} is empty")
        if "://" in text or (" " not in text and ":" in text and text.rsplit(":", 1)[1].isdigit()):
            url = check_base(text if "://" in text else "http://" + text)
            return cls(name, url=url, pid=pid)
        if pid is not None:
            raise UsageError(f"--{name.lower()}-pid is for a server given by URL")
        return cls(name, command=shlex.split(text))


def one_round(side: Side, load_args: list[str] | None, suite, opts: dict,
              stop: threading.Event, index: int = 0) -> dict | None:
    """Start (or reach) one side, run the load or the suite, stop it; the round's metrics
    (``{}`` if nothing was measured; ``None`` if the side could not start)."""
    srv = ServerUnderTest(command=side.command, url=side.url, pid=side.pid,
                          start_timeout=opts["start_timeout"], stop_timeout=opts["stop_timeout"],
                          stop=stop)
    with srv:
        try:
            if srv.start() is None:
                return {}
        except PinkError as e:
            side.problem(e.message)
            return None
        if suite is not None:
            run = run_suite(suite, srv, overrides=opts.get("overrides") or {})
            for r in run.runs:
                if r.status not in ("ok", "interrupted") and not stop.is_set():
                    side.problem(f"{r.endpoint.name}: {r.status}: {r.detail}", index)
            return {r.endpoint.name: metrics_of(r.result.to_json(timeline=False), r.cpu_percent,
                                                r.peak_rss)
                    for r in run.runs if r.status == "ok"}
        spec = parse_compare_load(load_args, srv.url)
        w = srv.measure(lambda s: run_spec(spec, stop=s))
        if w.died:
            side.problem(f"died during its load: {w.died}", index)
            return {}
        if w.value.requests == 0:
            if not stop.is_set():
                kinds = ", ".join(f"{n} {k}" for k, n in sorted(w.value.errors.items()))
                side.problem(f"no responses ({kinds or 'no answer'})", index)
            return {}
        return {SINGLE: metrics_of(w.value.to_json(timeline=False), w.cpu_percent, w.peak_rss)}


def run_rounds(a: Side, b: Side, rounds: int, load_args: list[str] | None, suite, opts: dict,
               stop: threading.Event,
               on_round: Callable[[int, Side], None] | None = None) -> None:
    """Alternate A and B for ``rounds`` rounds, until the user stops or a side cannot start."""
    for i in range(rounds):
        for side in (a, b):
            if stop.is_set():
                return
            if on_round is not None:
                on_round(i, side)
            got = one_round(side, load_args, suite, opts, stop, i)
            if got is None:
                return
            if got and not stop.is_set():
                side.rounds.append(got)


def load_of(result: dict) -> str:
    """How a saved result was loaded, in bench's words (to warn when A and B differ)."""
    proto = result.get("protocol") or "http/1.1"
    words = [proto, f"-c {result.get('connections')}"]
    if (result.get("pipelining") or 1) > 1:
        words.append(f"-p {result['pipelining']}")
    if result.get("streams"):
        words.append(f"--streams {result['streams']}")
    if result.get("rate"):
        words.append(f"-R {result['rate'].get('target')}")
    return " ".join(words)


def read_saved(path: str) -> tuple[dict, dict]:
    """A saved ``bench --json`` or ``bench --suite --json`` file -> ``({section: metrics},
    {section: how it was loaded})``."""
    try:
        data = jsonio.read_json(path)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    except ValueError as e:
        raise UsageError(f"{path}: not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object from `pinkclinic bench --json`")
    if data.get("kind") == "suite":
        eps = [e for e in data.get("endpoints", []) if isinstance(e, dict) and e.get("result")]
        return ({e["name"]: metrics_of(e["result"], e.get("cpu_percent"), e.get("peak_rss"))
                 for e in eps}, {e["name"]: load_of(e["result"]) for e in eps})
    if isinstance(data.get("latency"), dict) and isinstance(data.get("requests"), dict):
        server = data.get("server") if isinstance(data.get("server"), dict) else {}
        return ({SINGLE: metrics_of(data, server.get("cpu_percent"), server.get("peak_rss"))},
                {SINGLE: load_of(data)})
    raise UsageError(f"{path}: not a `pinkclinic bench --json` result (no latency/requests)")
