"""The rounds of ``pinkclinic compare``: A, B, A, B, ... each side started (if a command),
loaded, measured with psutil and stopped in turn, so that drift on a noisy machine
hits both sides alike. Also reads saved ``bench --json`` / ``--suite --json`` files.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pinkclinic import jsonio
from pinkclinic.errors import PinkError, UsageError
from pinkclinic.load.compare import SINGLE, metrics_of
from pinkclinic.load.server import ServerUnderTest


@dataclass
class Side:
    name: str  # "A" or "B"
    command: list[str] | None = None
    url: str | None = None
    pid: int | None = None
    rounds: list[dict] = field(default_factory=list)  # [{section: {metric: value}}]

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
            return cls(name, url=text if "://" in text else "http://" + text, pid=pid)
        if pid is not None:
            raise UsageError(f"--{name.lower()}-pid is for a server given by URL")
        return cls(name, command=shlex.split(text))


def parse_load(load_args: list[str], base_url: str):
    """``--load`` words -> a spec; ``--http2`` and ``--streams N`` are understood too."""
    from pinkclinic.load.options import parse_bench_args
    from pinkclinic.load.runany import build_spec

    args, http2, streams = [], False, None
    it = iter(load_args)
    for word in it:
        if word == "--http2":
            http2 = True
        elif word == "--streams" or word.startswith("--streams="):
            value = word.partition("=")[2] or next(it, "")
            if not value.isdigit() or int(value) < 1:
                raise UsageError(f"--load: --streams needs a whole number, got {value!r}")
            streams = int(value)
        else:
            args.append(word)
    spec = parse_bench_args(args, base_url=base_url)
    if not http2:
        if streams is not None:
            raise UsageError("--load: --streams applies only with --http2")
        return spec
    load = {k: getattr(spec, k) for k in ("connections", "pipelining", "duration", "amount",
                                           "timeout", "warmup", "workers", "rate", "correction")}
    return build_spec(spec.url, method=spec.method, headers=spec.headers, body=spec.body,
                      requests=spec.requests, http2=True, streams=streams, **load)


def one_round(side: Side, load_args: list[str] | None, suite, opts: dict,
              stop: threading.Event) -> dict:
    """Start (or reach) one side, run the load or the suite, stop it; the round's metrics."""
    from pinkclinic.load.runany import run_spec
    from pinkclinic.load.suite import run_suite

    srv = ServerUnderTest(command=side.command, url=side.url, pid=side.pid,
                          start_timeout=opts["start_timeout"], stop_timeout=opts["stop_timeout"],
                          stop=stop)
    with srv:
        try:
            if srv.start() is None:
                return {}
        except PinkError as e:
            raise PinkError(f"{side.name} ({side.label}): {e.message}", e.exit_code) from None
        if suite is not None:
            run = run_suite(suite, srv, overrides=opts.get("overrides") or {})
            bad = [r for r in run.runs if r.status != "ok"]
            if bad and not stop.is_set():
                raise PinkError(f"{side.name} ({side.label}): {bad[0].endpoint.name}: "
                                f"{bad[0].status}: {bad[0].detail}")
            return {r.endpoint.name: metrics_of(r.result.to_json(timeline=False), r.cpu_percent,
                                                r.peak_rss)
                    for r in run.runs if r.result is not None}
        spec = parse_load(load_args, srv.url)
        w = srv.measure(lambda s: run_spec(spec, stop=s))
        if w.died:
            raise PinkError(f"{side.name} ({side.label}) died during its load: {w.died}")
        if w.value.requests == 0 and not stop.is_set():
            kinds = ", ".join(f"{n} {k}" for k, n in sorted(w.value.errors.items()))
            raise PinkError(f"{side.name} ({side.label}): no responses ({kinds or 'no answer'})")
        return {SINGLE: metrics_of(w.value.to_json(timeline=False), w.cpu_percent, w.peak_rss)}


def run_rounds(a: Side, b: Side, rounds: int, load_args: list[str] | None, suite, opts: dict,
               stop: threading.Event,
               on_round: Callable[[int, Side], None] | None = None) -> int:
    """Alternate A and B for ``rounds`` rounds; returns the rounds completed by both."""
    done = 0
    for i in range(rounds):
        for side in (a, b):
            if stop.is_set():
                return done
            if on_round is not None:
                on_round(i, side)
            got = one_round(side, load_args, suite, opts, stop)
            if got and not stop.is_set():
                side.rounds.append(got)
        done = min(len(a.rounds), len(b.rounds))
    return done


def read_saved(path: str) -> dict:
    """A saved ``bench --json`` or ``bench --suite --json`` file -> ``{section: metrics}``."""
    try:
        data = jsonio.read_json(path)
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    except ValueError as e:
        raise UsageError(f"{path}: not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object from `pinkclinic bench --json`")
    if data.get("kind") == "suite":
        return {e["name"]: metrics_of(e["result"], e.get("cpu_percent"), e.get("peak_rss"))
                for e in data.get("endpoints", []) if e.get("result")}
    if isinstance(data.get("latency"), dict) and isinstance(data.get("requests"), dict):
        return {SINGLE: metrics_of(data)}
    raise UsageError(f"{path}: not a `pinkclinic bench --json` result (no latency/requests)")
