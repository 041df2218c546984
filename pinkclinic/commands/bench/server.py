"""The server a suite or scenario runs against, from the command line and the file: a
command after ``--``, else a URL (the argument, or the file's), with ``--pid`` and
``--port`` where they apply."""

from __future__ import annotations

from pinkclinic.errors import UsageError
from pinkclinic.load.core.urls import check_base
from pinkclinic.workflows.server import ServerUnderTest


def server_for(path: str, url: str | None, file_url: str | None, command: list[str],
               wf: dict, stop, schemes: tuple[str, ...] = ("http", "https")) -> ServerUnderTest:
    """The server of a suite or scenario: a command after --, else a URL (argument or file),
    whose path is a prefix of every path in the file."""
    if url and command:
        raise UsageError("give either a URL or a server command after --, not both")
    base = url or (None if command else file_url)
    if not command and not base:
        raise UsageError(f"{path}: no server to load: give a URL, a `url:` in the file, "
                         "or a command to start after --")
    if base and "://" not in base:
        base = "http://" + base
    if base:
        check_base(base, schemes)
    if wf.get("server_pid") is not None and command:
        raise UsageError("--pid is for a server already running, not with a command after --")
    if wf.get("server_port") is not None and not command:
        raise UsageError("--port applies with a command after --; put the port in the URL")
    return ServerUnderTest(command=command or None, url=base if not command else None,
                           pid=wf.get("server_pid"), port=wf.get("server_port"),
                           start_timeout=wf["start_timeout"], stop_timeout=wf["stop_timeout"],
                           stop=stop)
