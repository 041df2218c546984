"""Load-generator benchmark: pinkclinic bench against wrk and autocannon, on nginx.

    bash bench/setup.sh                       # nginx-light, wrk, autocannon (local npm folder)
    flock -x /tmp/pinkclinic-cpu.lock python bench/loadgen.py [--rounds 3] [--duration 10]

nginx (one worker, a 14-byte static file) is pinned to core 0; each generator in
turn to core 1, 50 connections, alternating rounds. Reported per generator: req/s,
p50, p99 and the generator's CPU µs per request (user + system from rusage of the
whole process, start-up included), with ratios to wrk: medians over the rounds, and
each ratio the median of the per-round ratios (round i against wrk's round i). The
order of the generators rotates from round to round.
Also: a new connection per request (``Connection: close``), rate mode at
2,000 req/s, and pinkclinic's request count against nginx's stub_status.
pinkclinic's modules are compiled to bytecode first, as an installed package's are:
with PYTHONDONTWRITEBYTECODE set (as on the machine this was written on), every run
would otherwise compile every module at start-up, ~0.15 s of CPU counted per run.
Writes bench/results/loadgen.md and loadgen.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
AUTOCANNON = HERE / ".node" / "node_modules" / ".bin" / "autocannon"
CONNS = 50
BODY = b"Hello, World!\n"

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 65;
    client_body_temp_path {dir}/tmp;
    proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp;
    uwsgi_temp_path {dir}/tmp;
    scgi_temp_path {dir}/tmp;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        root {dir}/www;
        location = /nginx_status {{ stub_status; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="pinkclinic-bench-"))
        self.dir.chmod(0o755)  # nginx's worker runs as nobody: a 0700 dir gave only 403s
        (self.dir / "www").mkdir()
        (self.dir / "tmp").mkdir()
        (self.dir / "www" / "index.html").write_bytes(BODY)
        self.port = free_port()
        (self.dir / "nginx.conf").write_text(NGINX_CONF.format(dir=self.dir, port=self.port))
        self.proc = subprocess.Popen(["taskset", "-c", "0", "/usr/sbin/nginx", "-c",
                                      str(self.dir / "nginx.conf"), "-p", str(self.dir)],
                                     start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            time.sleep(0.05)
        else:
            raise SystemExit("nginx did not start")
        with urllib.request.urlopen(self.url, timeout=5) as r:  # a 403 would be measured too
            if r.read() != BODY:
                raise SystemExit(f"nginx does not serve {self.url} as expected")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/index.html"

    def handled(self) -> int:
        """nginx's request counter (stub_status); this status request counts itself."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/nginx_status", timeout=5) as r:
            text = r.read().decode()
        return int(text.splitlines()[2].split()[2])

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def run_measured(cmd: list[str], timeout: float) -> tuple[str, str, float, int]:
    """Run pinned to core 1; (stdout, stderr, CPU seconds, exit code) via wait4's rusage."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(["taskset", "-c", "1", *cmd], stdout=out, stderr=err)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                ru.ru_utime + ru.ru_stime, proc.returncode)


def to_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return float("nan")
    v, unit = float(m.group(1)), m.group(2)
    return v * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def gen_wrk(url, duration, rate, close):
    cmd = ["wrk", "-t1", f"-c{CONNS}", f"-d{duration:g}s", "--latency"]
    if close:
        cmd += ["-H", "Connection: close"]
    return [*cmd, url]


def parse_wrk(out: str) -> dict:
    total = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out).group(1))
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = re.search(r"Socket errors: (.*)", out)
    return {"requests": total, "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50": to_ms(pct.get("50", "nan")), "p99": to_ms(pct.get("99", "nan")),
            "errors": errors.group(1) if errors else ""}


def gen_autocannon(url, duration, rate, close):
    cmd = [str(AUTOCANNON), "-c", str(CONNS), "-d", f"{duration:g}", "-j", "-n"]
    if rate:
        cmd += ["-R", str(rate)]
    if close:
        cmd += ["-H", "Connection=close"]
    return [*cmd, url]


def parse_json(out: str) -> dict:
    j = json.loads(out[out.index("{"):])
    return {"requests": j["requests"]["total"], "rps": j["requests"]["total"] / j["duration"],
            "p50": j["latency"]["p50"], "p99": j["latency"]["p99"], "errors": j["errors"],
            "timeouts": j["timeouts"], "duration": j["duration"], "json": j}


def gen_pinkclinic(url, duration, rate, close, workers=0):
    cmd = [sys.executable, "-m", "pinkclinic", "bench", "-c", str(CONNS), "-d", f"{duration:g}",
           "-j", "-n"]
    if workers:
        cmd += ["-w", str(workers)]
    if rate:
        cmd += ["-R", str(rate)]
    if close:
        cmd += ["-H", "Connection: close"]
    return [*cmd, url]


GENERATORS = {
    "wrk": (gen_wrk, parse_wrk),
    "autocannon": (gen_autocannon, parse_json),
    "pinkclinic": (gen_pinkclinic, parse_json),
    "pinkclinic -w 1": (lambda *a: gen_pinkclinic(*a, workers=1), parse_json),
}


def measure(name: str, nginx: Nginx, duration: float, rate=None, close=False) -> dict:
    gen, parse = GENERATORS[name]
    before = nginx.handled()
    out, err, cpu, code = run_measured(gen(nginx.url, duration, rate, close), duration + 60)
    after = nginx.handled()
    if code not in (0, None) and not out.strip():
        raise SystemExit(f"{name} failed ({code}): {err[-500:]}")
    r = parse(out)
    j = r.pop("json", None)
    if j and j.get("timeline"):
        r["per_second"] = [t["requests"] for t in j["timeline"]]
    r["cpu_s"] = round(cpu, 3)
    r["cpu_us_per_req"] = round(cpu / r["requests"] * 1e6, 2) if r["requests"] else None
    r["nginx_counted"] = after - before - 1  # minus the status request that read `after`
    return r


def compile_bytecode() -> None:
    """Write pinkclinic's .pyc files (``__pycache__``, ignored by git), as pip does on install."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "pinkclinic")],
                   check=True, stdout=subprocess.DEVNULL, env={**os.environ,
                                                            "PYTHONDONTWRITEBYTECODE": ""})


def median(xs):
    xs = [x for x in xs if x is not None and x == x]
    return statistics.median(xs) if xs else float("nan")


METRICS = ("rps", "p50", "p99", "cpu_us_per_req")


def summarise(runs: dict[str, list[dict]], ref: str = "wrk") -> dict[str, dict]:
    """Medians over the rounds, and medians of the per-round ratios to ``ref``: round *i*
    of a generator is divided by round *i* of ``ref`` (the machine's state in that round
    cancels out), then the median is taken; never a ratio of two medians."""
    out = {}
    base = runs.get(ref, [])
    for name, rs in runs.items():
        s = {k: median([r[k] for r in rs]) for k in METRICS}
        for k in METRICS:
            ratios = [r[k] / b[k] for r, b in zip(rs, base, strict=False)
                      if r.get(k) is not None and b.get(k)]
            s[f"{k}_x_{ref}"] = median(ratios)
            good = [x for x in ratios if x == x]
            s[f"{k}_x_{ref}_range"] = [min(good), max(good)] if good else None
        s["runs"] = len(rs)
        out[name] = s
    return out


def table(summary: dict[str, dict], title: str, ref: str = "wrk") -> list[str]:
    lines = [f"### {title}", "",
             f"| generator | req/s | × {ref} | p50 ms | × {ref} | p99 ms | × {ref} "
             f"| CPU µs/request | × {ref} |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, s in summary.items():
        x = {k: ratio_cell(s, f"{k}_x_{ref}") for k in METRICS}
        lines.append(f"| {name} | {s['rps']:,.0f} | {x['rps']} | {s['p50']:.2f} | "
                     f"{x['p50']} | {s['p99']:.2f} | {x['p99']} | "
                     f"{s['cpu_us_per_req']:.1f} | {x['cpu_us_per_req']} |")
    return [*lines, "", f"Values are medians over the rounds; each × {ref} is the median of "
            f"the per-round ratios (round *i* against {ref}'s round *i*), with their lowest "
            "and highest in brackets.", ""]


def ratio_cell(s: dict, key: str) -> str:
    """A ratio's median and, when there are several rounds, its range."""
    med, rng = s.get(key, float("nan")), s.get(f"{key}_range")
    if not rng or s.get("runs", 0) < 2 or rng[0] == rng[1]:
        return f"{med:.2f}"
    return f"{med:.2f} ({rng[0]:.2f}–{rng[1]:.2f})"


def rotated(names: list[str], rnd: int) -> list[str]:
    """The round's order: rotated each round, so that no generator always runs right
    after the same other one (a slow neighbour, or TIME_WAIT sockets, then hit all)."""
    k = rnd % len(names)
    return names[k:] + names[:k]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--close-rounds", type=int, default=2)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--rate", type=float, default=2000)
    ap.add_argument("--only", nargs="*", default=None, help="sections: keepalive close rate")
    ap.add_argument("--generators", nargs="*", default=None, choices=list(GENERATORS),
                    metavar="NAME", help=f"a subset of {', '.join(GENERATORS)} (to iterate; "
                    "wrk is always included, the ratios are to it)")
    ap.add_argument("--out", default="loadgen",
                    help="results name under bench/results/ (NAME.md, NAME.json)")
    args = ap.parse_args()
    d = args.duration
    sections = set(args.only or ["keepalive", "close", "rate"])
    os.environ["PYTHONPATH"] = str(ROOT)
    compile_bytecode()
    nginx = Nginx()
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "kernel": platform.release()},
                     "duration_s": d, "connections": CONNS, "loadavg": [os.getloadavg()[0]]}
    try:
        names = [n for n in GENERATORS if n == "wrk" or args.generators is None
                 or n in args.generators]
        if "keepalive" in sections:
            ka = {n: [] for n in names}
            for rnd in range(args.rounds):
                for n in rotated(names, rnd):
                    r = measure(n, nginx, d)
                    ka[n].append(r)
                    print(f"keep-alive round {rnd + 1} {n}: {r['rps']:,.0f} req/s, "
                          f"{r['cpu_us_per_req']} µs/req, p99 {r['p99']:.2f} ms, "
                          f"nginx counted {r['nginx_counted']}", flush=True)
            results["keepalive"] = {"runs": ka, "summary": summarise(ka)}
        if "close" in sections:
            cl = {n: [] for n in names if n != "pinkclinic -w 1"}
            for rnd in range(args.close_rounds):
                for n in rotated(list(cl), rnd):
                    r = measure(n, nginx, d, close=True)
                    cl[n].append(r)
                    print(f"new connection per request, round {rnd + 1} {n}: {r['rps']:,.0f} req/s, "
                          f"{r['cpu_us_per_req']} µs/req, p50 {r['p50']:.2f} ms", flush=True)
            results["close"] = {"runs": cl, "summary": summarise(cl)}
        if "rate" in sections:
            rate = {}
            for n in [n for n in ("pinkclinic", "autocannon") if n in names]:
                r = measure(n, nginx, d, rate=args.rate)
                r["rate_target"] = args.rate
                rate[n] = r
                print(f"rate {args.rate:g}/s {n}: {r['rps']:.1f} req/s "
                      f"({(r['rps'] / args.rate - 1) * 100:+.2f}%), nginx counted {r['nginx_counted']}",
                      flush=True)
            results["rate"] = rate
    finally:
        nginx.stop()
    results["loadavg"].append(os.getloadavg()[0])
    write(results, args)


def write(results: dict, args) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    lines = ["# Load generator benchmark", "",
             f"Produced by `flock -x /tmp/pinkclinic-cpu.lock python bench/loadgen.py"
             f"{''.join(' ' + shlex.quote(a) for a in sys.argv[1:])}` on "
             f"{results['machine']['cpus']} cores (Python {results['machine']['python']}, "
             f"kernel {results['machine']['kernel']}).",
             f"nginx (one worker, 14-byte static file) on core 0, each generator on core 1; "
             f"{CONNS} connections, {results['duration_s']:g} s per run, the order rotated each "
             "round; medians over the rounds, ratios as medians of per-round ratios. "
             "CPU is the generator's user + system time from rusage (start-up included), "
             "divided by the requests it completed; pinkclinic's bytecode is compiled "
             "beforehand, as an installed package's is. The machine is shared and noisy "
             "(single runs vary by up to ±30%): compare ratios within one run of this script.",
             f"1-minute load average {results['loadavg'][0]:.2f} before, "
             f"{results['loadavg'][1]:.2f} after"
             + (" (above 1: other work shared the 2 cores, the figures are noisy)."
                if max(results['loadavg']) > 1 else "."), ""]
    if "keepalive" in results:
        lines += table(results["keepalive"]["summary"], "Keep-alive")
        counts = [(r["requests"], r["nginx_counted"]) for n in ("pinkclinic", "pinkclinic -w 1")
                  for r in results["keepalive"]["runs"].get(n, [])]
        ok = all(a == b for a, b in counts)
        lines += [f"Request count, pinkclinic vs nginx's stub_status, every run: "
                  f"{'equal' if ok else 'DIFFERENT'} ({', '.join(f'{a}/{b}' for a, b in counts)}).", ""]
    if "close" in results:
        lines += table(results["close"]["summary"], "A new connection per request (Connection: close)")
    if "rate" in results:
        lines += ["### Rate mode", "", "| generator | target req/s | achieved | error | nginx counted |",
                  "|---|---|---|---|---|"]
        for n, r in results["rate"].items():
            lines.append(f"| {n} | {r['rate_target']:g} | {r['rps']:.1f} | "
                         f"{(r['rps'] / r['rate_target'] - 1) * 100:+.2f}% | {r['nginx_counted']} |")
        lines.append("")
    (RESULTS / f"{args.out}.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
