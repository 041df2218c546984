"""Recommendations: what to do next, with the exact next command to run."""

from __future__ import annotations

import shlex

from pinkclinic.recording import Recording


def next_command(rec: Recording, tool: str, *extra: str) -> str:
    """The same run, under another pinkclinic tool (``flame``, ``heap``, ``doctor``)."""
    m = rec.manifest
    opts = m.get("options", {})
    target = m.get("target", {})
    parts = ["pinkclinic", tool, *extra]
    if opts.get("load"):
        parts += ["--load", opts["load"]]
    elif opts.get("on_port"):
        parts += ["--on-port", opts["on_port"]]
    elif opts.get("no_load"):
        parts.append("--no-load")
    if target.get("attached"):
        parts += ["--pid", str(target.get("pid"))]
        return shlex.join(parts)
    return shlex.join(parts) + " -- " + shlex.join(m.get("command", []))


def recommendation(rec: Recording, category: str, culprit: str | None) -> str:
    who = f"{culprit}()" if culprit else "the code named above"
    flame = next_command(rec, "flame")
    if category == "loop-cpu":
        return (f"Move the CPU work in {who} off the event loop (a process pool via "
                f"loop.run_in_executor), or make it cheaper. See where its time goes: {flame}")
    if category == "loop-blocking-call":
        return (f"Replace the blocking call in {who} with an async client, or run it in a "
                f"thread with `await asyncio.to_thread(...)`. Wall-clock view: "
                f"{next_command(rec, 'flame', '--idle')}")
    if category == "io-wait":
        return (f"The server waits on something outside (in {who}): check the backend's latency "
                "(its slow queries or endpoints), and timeouts. What requests wait on: "
                f"{next_command(rec, 'waits')}")
    if category == "pool-exhausted":
        return (f"Requests queue for a pool in {who}, not for the backend: size the pool (or "
                "the executor's workers) for the concurrency you serve, hold a connection only "
                "around the query, and check the backend can take it. Waits per site: "
                f"{next_command(rec, 'waits')}")
    if category == "lock-contention":
        return (f"Requests serialise on a lock in {who}: shrink the lock's scope (never hold it "
                "across an await or a call to a backend), or shard what it protects. Waits "
                f"per site: {next_command(rec, 'waits')}")
    if category == "gc-pressure":
        return (f"Allocate fewer container objects per request in {who} and avoid reference "
                "cycles; after start-up, gc.freeze() keeps long-lived objects out of "
                f"collections. See the allocations: {next_command(rec, 'heap')}")
    if category == "memory-leak":
        return f"Find the allocation site that keeps growing: {next_command(rec, 'heap')}"
    if category == "gil-contention":
        return ("Threads wait for the GIL: run CPU-bound work in processes (more workers, "
                f"fewer threads) or in native code that releases the GIL. Hot code: {flame}")
    if category == "cpu-saturation":
        return (f"The usable cores are full: make the work in {who} cheaper, or give the "
                "server more cores (its CPU affinity, its container's CPU limit, a bigger "
                f"machine); more processes or threads cannot help. Where the CPU goes: {flame}")
    if category == "cpu-starved":
        return ("Other processes held the cores: the server's latency here is the machine's "
                "load, not its code. Measure where it has its cores to itself (pin it and its "
                "neighbours to separate cores with taskset, or give it a CPU reservation), "
                f"then run doctor again: {next_command(rec, 'doctor')}")
    if category == "insufficient-data":
        return insufficient_advice(rec, "samples")
    return f"Nothing stands out: the server is busy serving requests. To make it faster: {flame}"


def insufficient_advice(rec: Recording, reason: str) -> str:
    """What to change when there was not enough to judge. ``reason``: ``window`` (no or a
    too short load window), ``traffic`` (no traffic, or a load that mostly failed) or
    ``samples`` (too few samples of some signal)."""
    status = rec.manifest.get("status", {})
    outcome, detail = status.get("outcome"), status.get("detail") or ""
    opts = rec.manifest.get("options", {})
    if outcome == "interrupted":
        return (f"The run was interrupted ({detail or 'Ctrl-C'}) before there was enough to "
                f"judge: run it again and let the load finish: {next_command(rec, 'doctor')}")
    if outcome in ("target-crashed", "target-exited"):
        return ("The target ended during the run (see how the run ended): fix that first (its "
                "output is in target.log in the recording), then run doctor again.")
    if outcome == "error":
        return "The run failed (see how the run ended): fix that, then run doctor again."
    if reason == "traffic" and opts.get("load"):
        return ("Most of the load failed: check the path and options in --load (the host and port "
                "are the server's own), e.g. --load '-c 20 -d 10 /items'; the failures are on the "
                "load chart and in load-result.json.")
    if reason == "traffic":
        return ("Send the server its usual traffic while pinkclinic records, or let pinkclinic "
                "drive it: --load '-c 20 -d 10 /path'.")
    return ("Run a longer or heavier load so that the analysis has enough samples, "
            "e.g. --load '-c 50 -d 20'.")
