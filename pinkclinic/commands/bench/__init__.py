"""``pinkclinic bench``: which run the options ask for, and its exit status.

A suite (``--suite``), a scenario (``--scenario``), WebSocket (``ws://``), HTTP/2
(``--http2``) or one HTTP/1.1 load; each module here runs one of them and prints its
results (:mod:`~pinkclinic.commands.bench.single` for the single-URL ones), imported only
when chosen: a plain run never loads the HTTP/2, WebSocket or YAML machinery. The click
declarations are in :mod:`pinkclinic.cli.bench`.
"""

from __future__ import annotations

from pinkclinic.errors import UsageError

# the options bench has beyond the load's (pinkclinic.loadargs.options)
WORKFLOW_KEYS = ("suite_file", "scenario_file", "http2", "streams", "messages", "per_connection",
                 "on_connect", "max_size", "server_port", "server_pid", "start_timeout",
                 "stop_timeout")
WS_KEYS = ("messages", "per_connection", "on_connect")


def run_bench(url: str | None, opts: dict, *, command: list[str], given: set[str],
              as_json: bool, full_latency: bool, no_progress: bool) -> int:
    """Run what the options ask for; the exit status.

    ``opts``: every option's value, by parameter name; ``given``: the names of the options
    given on the command line (not defaulted); ``command``: the words after ``--``."""
    wf = {k: opts.pop(k) for k in WORKFLOW_KEYS}
    out = {"as_json": as_json, "full_latency": full_latency, "no_progress": no_progress}
    if wf["suite_file"] and wf["scenario_file"]:
        raise UsageError("give either --suite or --scenario, not both")
    if wf["suite_file"]:
        from pinkclinic.commands.bench.suite import bench_suite

        return bench_suite(wf["suite_file"], url, command, given, opts, wf, **out)
    if wf["scenario_file"]:
        from pinkclinic.commands.bench.scenario import bench_scenario

        return bench_scenario(wf["scenario_file"], url, command, given, opts, wf, **out)
    if command:
        raise UsageError("a server command after -- needs --suite or --scenario "
                         "(or use `pinkclinic doctor -- COMMAND`)")
    if url is None:
        raise UsageError("missing URL (or --suite FILE / --scenario FILE)")
    for name in ("server_port", "start_timeout", "stop_timeout"):
        if name in given:
            flag = "--port" if name == "server_port" else "--" + name.replace("_", "-")
            raise UsageError(f"{flag} applies only with --suite or --scenario and -- COMMAND")
    if wf["server_pid"] is not None and (wf["http2"] or url.startswith(("ws://", "wss://"))):
        raise UsageError("--pid applies to HTTP/1.1 runs and suites (not --http2 or ws://)")
    if url.startswith(("ws://", "wss://")):
        from pinkclinic.commands.bench.ws import bench_ws

        return bench_ws(url, opts, wf, **out)
    used = [k for k in WS_KEYS if wf[k]]
    if used:
        raise UsageError(f"--{used[0].replace('_', '-').rstrip('s')} applies only to ws:// URLs")
    if wf["http2"]:
        from pinkclinic.commands.bench.h2 import bench_h2

        return bench_h2(url, opts, wf["streams"], **out)
    if wf["streams"] is not None:
        raise UsageError("--streams applies only with --http2")
    from pinkclinic.commands.bench.single import bench_http1

    return bench_http1(url, opts, wf["server_pid"], **out)
