"""Phased arrivals (artillery's model): virtual users arrive at each phase's rate (constant,
or a linear ramp) and each runs one flow once, on its own keep-alive connection.

Arrivals are placed exactly: in a phase of duration D ramping from r0 to r1 the
k-th user arrives when the expected count ``r0 t + (r1 - r0) t² / 2D`` reaches k,
so a 10 s phase at 5/s starts exactly 50 users, evenly spaced. Users are counted in
the phase they arrived in; requests in the phase in which they completed. A user
fails on a network error, a timeout or a capture that found nothing (non-2xx
answers are counted, not failures, as in artillery); users still running 2 s after
the last phase (or the request timeout, if shorter) are cut off and fail.

A step's ``url`` is joined under the path of the server URL (``config.target:
http://h/api`` and ``/items`` request ``/api/items``, as artillery does). Values
rendered into a URL are percent-encoded where they could not be sent as they are
(spaces, non-ASCII, quotes...); a value with a line break in a header fails the user.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import time
from collections.abc import Callable
from urllib.parse import quote, urlsplit

from pinkclinic.load.core.stats import DRAIN_MAX_S, TIMEOUT
from pinkclinic.load.lanes.engine import LaneError
from pinkclinic.load.scenario.client import VuConnection
from pinkclinic.load.scenario.file import TEMPLATE_RE, Flow, Phase, ScenarioFile, Step
from pinkclinic.load.scenario.stats import PhaseStats

PATH_TOKEN_RE = re.compile(r"\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def arrival_times(ph: Phase) -> list[float]:
    """Offsets (s) from the phase's start at which its users arrive."""
    r0, r1, d = ph.rate, ph.rate if ph.ramp_to is None else ph.ramp_to, ph.duration
    a = (r1 - r0) / (2 * d)
    total = r0 * d + a * d * d
    out = []
    for k in range(math.ceil(total - 1e-9)):
        t = k / r0 if a == 0 else (-r0 + math.sqrt(max(0.0, r0 * r0 + 4 * a * k))) / (2 * a)
        if t < d:
            out.append(t)
    return out


def json_path(doc, expr: str):
    cur = doc
    for m in PATH_TOKEN_RE.finditer(expr[1:]):
        key = m.group(1) or m.group(3) or m.group(4)
        if m.group(2) is not None:
            if not isinstance(cur, list) or int(m.group(2)) >= len(cur):
                return None
            cur = cur[int(m.group(2))]
        elif isinstance(cur, dict) and key in cur:
            cur = cur[key]
        else:
            return None
    return cur


def regexp_value(c, body: bytes) -> str | None:
    """The first match of a ``regexp`` capture in the body (as UTF-8 text): its ``group``,
    else its first group, else the whole match; ``None`` if nothing matched."""
    m = c.pattern.search(body.decode("utf-8", errors="replace"))
    if m is None:
        return None
    return m.group(c.group if c.group is not None else (1 if c.pattern.groups else 0))


def render(text: str, values: dict) -> str:
    return TEMPLATE_RE.sub(lambda m: str(values.get(m.group(1), "")), text)


URL_SAFE = ":/?#[]@!$&'()*+,;=~%"  # kept as they are: what a URL may already hold


def render_url(text: str, values: dict) -> str:
    return TEMPLATE_RE.sub(lambda m: quote(str(values.get(m.group(1), "")), safe=URL_SAFE), text)


class ScenarioRun:
    def __init__(self, sc: ScenarioFile, base_url: str, stop=None,
                 on_phase: Callable[[int, Phase], None] | None = None):
        self.sc = sc
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.authority = parts.netloc
        self.prefix = parts.path.rstrip("/")  # artillery's config.target + url
        self.stop_event = stop
        self.on_phase = on_phase
        self.phases = [PhaseStats(p) for p in sc.phases]
        self.total = PhaseStats(None)
        self.current = 0
        self.active: set[asyncio.Task] = set()
        self.picks = itertools.cycle([f for f in sc.flows for _ in range(f.weight)])
        self.interrupted = False
        self.t0 = 0.0

    def stopped(self) -> bool:
        return self.stop_event is not None and self.stop_event.is_set()

    # -- one virtual user -------------------------------------------------------------------
    async def _step(self, conn: VuConnection, st: Step, values: dict) -> None:
        headers = [(k, render(v, values)) for k, v in st.headers]
        for k, v in headers:
            if any(c in v for c in "\r\n\0"):
                raise LaneError("bad-value", f"header {k}: a captured value has a line break")
        url = render_url(st.url, values)
        if not url.startswith("/"):
            raise LaneError("bad-value", f"url {url!r} does not start with /")
        if st.json_body and not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        body = None if st.body is None else render(st.body, values).encode()
        t = time.perf_counter_ns()
        before = conn.nbytes
        try:
            resp = await asyncio.wait_for(
                conn.request(st.method, self.prefix + url, headers, body), self.sc.timeout)
        except asyncio.TimeoutError:
            conn.close()
            raise LaneError(TIMEOUT) from None
        lat_us = (time.perf_counter_ns() - t) // 1000
        for s in (self.phases[self.current], self.total):
            s.response(resp.status, lat_us, conn.nbytes - before)
        for c in st.captures:
            if c.kind == "header":
                value = resp.headers.get(c.expr.lower())
            elif c.kind == "regexp":
                value = regexp_value(c, resp.body)
            else:
                try:
                    value = json_path(json.loads(resp.body), c.expr)
                except ValueError:
                    value = None
            if value is None:
                raise LaneError("capture", f"{c.expr} not found in the answer to {st.url}")
            values[c.name] = value if isinstance(value, str) else json.dumps(value)

    async def _user(self, n: int, flow: Flow, phase: PhaseStats) -> None:
        conn = VuConnection(self.host, self.port, self.authority)
        values: dict = {"vu": str(n)}
        try:
            for st in flow.steps:
                if st.method is None:
                    await asyncio.sleep(st.think)
                    continue
                await self._step(conn, st, values)
        except LaneError as e:
            for s in (self.phases[self.current], self.total):
                s.error(e.kind)
            phase.failed += 1
            self.total.failed += 1
        except asyncio.CancelledError:
            phase.failed += 1
            self.total.failed += 1
            phase.error("unfinished")
            self.total.error("unfinished")
            raise
        else:
            phase.completed += 1
            self.total.completed += 1
        finally:
            conn.close()

    # -- arrivals ----------------------------------------------------------------------------
    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        self.t0 = time.time()
        offset = 0.0
        n = 0
        for i, (ph, stats) in enumerate(zip(self.sc.phases, self.phases)):
            self.current = i
            stats.start = self.t0 + offset
            if self.on_phase is not None:
                self.on_phase(i, ph)
            for t in arrival_times(ph):
                due = start + offset + t
                while loop.time() < due:
                    if self.stopped():
                        break
                    await asyncio.sleep(min(0.05, due - loop.time()))
                if self.stopped():
                    break
                if ph.max_vusers is not None and len(self.active) >= ph.max_vusers:
                    stats.skipped += 1  # not an arrival: the achieved rate counts started users
                    continue
                stats.arrivals.append(time.time())
                n += 1
                stats.created += 1
                self.total.created += 1
                task = asyncio.ensure_future(self._user(n, next(self.picks), stats))
                self.active.add(task)
                task.add_done_callback(self.active.discard)
            end = start + offset + ph.duration
            while loop.time() < end and not self.stopped():
                await asyncio.sleep(min(0.05, end - loop.time()))
            stats.end = time.time()
            offset += ph.duration
            if self.stopped():
                self.interrupted = True
                break
        drain = loop.time() + min(DRAIN_MAX_S, self.sc.timeout)
        while self.active and loop.time() < drain and not self.stopped():
            await asyncio.sleep(0.01)
        for task in list(self.active):
            task.cancel()
        await asyncio.gather(*list(self.active), return_exceptions=True)
        self.total.start, self.total.end = self.t0, time.time()
