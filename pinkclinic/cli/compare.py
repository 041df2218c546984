"""``pinkclinic compare``: the click declarations. The work is in
:mod:`pinkclinic.commands.compare`."""

from __future__ import annotations

import click


@click.command(context_settings={"max_content_width": 100}, epilog="""\b
Exit codes:
  0    compared; no --fail-if limit crossed
  1    B crossed a --fail-if limit (a regression)
  2    bad usage (options, files, URLs)
  3    the comparison is incomplete: a side failed to start, died, answered nothing or
       skipped an endpoint, or a --fail-if metric was not measured; what was measured
       is still printed, the problems under it
  130  interrupted (Ctrl-C); the rounds that completed are compared""")
@click.argument("saved", nargs=-1, metavar="[OLD.json NEW.json]")
@click.option("--a", "a_text", metavar="'CMD'|URL", help="Server A (the baseline): a command to "
              "start, or the URL of a running server.")
@click.option("--b", "b_text", metavar="'CMD'|URL", help="Server B (the candidate).")
@click.option("--load", metavar="'BENCH-OPTIONS'", help="The load, as `pinkclinic bench` options; "
              "the last word is a path, joined under a side's URL (default: '-c 20 -d 10', on "
              "the side's own path, or /). Not a full URL: the servers are --a and --b.")
@click.option("--suite", "suite_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Run this suite (bench --suite) on each side instead of one load.")
@click.option("--rounds", type=click.IntRange(1, 100), default=3, show_default=True,
              help="Rounds per side, alternating A B A B...; medians are reported.")
@click.option("--fail-if", "fail_if", multiple=True, metavar="'METRIC OP VALUE'",
              help="Exit 1 if B crosses this limit (repeatable): 'p99 > +10%' (B's change against "
                   "A), 'rps < -5%', 'p99 > 50ms', 'memory > 200MB', 'cpu > 80%' (of one core), "
                   "'cpu/req > +10%', 'errors > 0'. A limit whose metric was not measured "
                   "exits 3.")
@click.option("--markdown", is_flag=True, help="Print the table as markdown, for a pull request.")
@click.option("-j", "--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--a-pid", type=int, metavar="PID", help="With --a URL: its PID, to sample CPU and memory.")
@click.option("--b-pid", type=int, metavar="PID", help="With --b URL: its PID, to sample CPU and memory.")
@click.option("--start-timeout", type=float, default=30.0, show_default=True, metavar="S",
              help="How long to wait for a started server to listen.")
@click.option("--stop-timeout", type=float, default=10.0, show_default=True, metavar="S",
              help="How long to wait for a server to stop.")
def compare(saved, a_text, b_text, load, suite_file, rounds, fail_if, markdown, as_json, a_pid,
            b_pid, start_timeout, stop_timeout) -> int:
    """Compare two servers under the same load: req/s, latency, memory and CPU.

    \b
    pinkclinic compare --a "python old.py" --b "python new.py" --load "-c 20 -d 10 /"
    pinkclinic compare --a http://127.0.0.1:8000 --b http://127.0.0.1:8001 --suite s.yaml
    pinkclinic compare old.json new.json --fail-if "p99 > +10%" --markdown

    Each round starts A, loads it, stops it, then does the same with B; rounds
    alternate A B A B so that drift on a noisy machine hits both sides, and the
    table shows medians. Improvement is B against A: "+50%" req/s, "40% faster"
    latency, "25% less" memory (peak RSS of the whole process tree) and CPU.
    """
    from pinkclinic.commands.compare import run_compare

    return run_compare(saved, a_text=a_text, b_text=b_text, load=load, suite_file=suite_file,
                       rounds=rounds, fail_if=fail_if, markdown=markdown, as_json=as_json,
                       a_pid=a_pid, b_pid=b_pid, start_timeout=start_timeout,
                       stop_timeout=stop_timeout)
