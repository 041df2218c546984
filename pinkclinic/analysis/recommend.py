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
        return (f"The server waits on something outside (in {who}): check the backend's latency, "
                "connection-pool and semaphore sizes, and timeouts. Wall-clock view: "
                f"{next_command(rec, 'flame', '--idle')}")
    if category == "gc-pressure":
        return (f"Allocate fewer container objects per request in {who} and avoid reference "
                "cycles; after start-up, gc.freeze() keeps long-lived objects out of "
                f"collections. See the allocations: {next_command(rec, 'heap')}")
    if category == "memory-leak":
        return f"Find the allocation site that keeps growing: {next_command(rec, 'heap')}"
    if category == "gil-contention":
        return ("Threads wait for the GIL: run CPU-bound work in processes (more workers, "
                f"fewer threads) or in native code that releases the GIL. Hot code: {flame}")
    if category == "insufficient-data":
        return ("Run a longer or heavier load so that the analysis has enough samples, "
                "e.g. --load '-c 50 -d 20'.")
    return f"Nothing stands out: the server is busy serving requests. To make it faster: {flame}"
