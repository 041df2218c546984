"""Options every recording command takes (doctor, flame, heap), validated in one place."""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field
from typing import Any

from pinkclinic import redact
from pinkclinic.errors import UsageError

DEFAULT_LOAD = "-c 20 -d 10"


@dataclass
class SessionOptions:
    kind: str                                  # doctor | flame | heap | waits
    command: list[str] = field(default_factory=list)
    load: str | None = None                    # bench options, e.g. "-c 50 -d 10 /items"
    on_port: str | None = None                 # a shell command run with $PORT once listening
    no_load: bool = False
    dest: str = ".pinkclinic"
    name: str | None = None
    open_report: bool = False
    collect_only: bool = False
    pid: int | None = None
    port: int | None = None
    url: str | None = None                     # attach: where to send the load
    duration: float | None = None              # attach without load: how long to record
    start_timeout: float = 30.0
    stop_timeout: float = 10.0
    sample_interval_ms: float = 10.0
    extra: dict[str, Any] = field(default_factory=dict)  # the command's own options

    def validate(self) -> SessionOptions:
        modes = [m for m, on in (("--load", self.load is not None), ("--on-port", self.on_port),
                                 ("--no-load", self.no_load)) if on]
        if len(modes) > 1:
            raise UsageError(f"{' and '.join(modes)} cannot be used together")
        for flag, value in (("--start-timeout", self.start_timeout),
                            ("--stop-timeout", self.stop_timeout),
                            ("--sample-interval", self.sample_interval_ms)):
            if value is None or value <= 0:
                raise UsageError(f"{flag} must be a positive number, not {value}")
        if self.duration is not None:
            if self.duration <= 0:
                raise UsageError(f"--duration must be a positive number of seconds, not {self.duration}")
            if self.load is not None or self.on_port:
                raise UsageError("--duration records without load; with --load the load's own -d "
                                 "sets the length, and --on-port ends when its command does")
            self.no_load = True  # passive recording for that long, e.g. of a live --pid
        if self.port is not None and not 0 < self.port < 65536:
            raise UsageError(f"--port must be between 1 and 65535, not {self.port}")
        if self.url is not None and self.pid is None:
            raise UsageError("--url only applies with --pid; a launched server's port is detected")
        if self.load is not None:
            try:
                shlex.split(self.load)
            except ValueError as e:
                raise UsageError(f"--load cannot be parsed: {e}") from None
        if self.load_args:  # check the load before anything is started
            self._check_load()
        if self.name is not None and (not self.name or "/" in self.name or self.name.startswith(".")):
            raise UsageError(f"--name must be a plain file name, not {self.name!r}")
        if self.pid is not None and self.command:
            raise UsageError("give either --pid or a command after --, not both")
        if self.pid is not None:
            from pinkclinic.target.inject import forced_method

            forced_method()  # a bad PINKCLINIC_INJECT is refused before anything starts
        if self.pid is None and not self.command:
            raise UsageError(f"nothing to {self.kind}: give a command after -- "
                             f"(e.g. pinkclinic {self.kind} -- python app.py) or --pid PID")
        return self

    def _check_load(self) -> None:
        """The load must parse, and its target must be a path: host and port are the
        detected server's (or --url's), so a full URL would silently go elsewhere."""
        from urllib.parse import urlsplit

        from pinkclinic.loadargs import parse_bench_args

        probe = "http://pinkclinic.invalid:1"
        try:
            spec = parse_bench_args(self.load_args, base_url=probe)
        except UsageError as e:
            msg = e.message if e.message.startswith("--load") else f"--load: {e.message}"
            raise UsageError(msg) from None
        url = urlsplit(spec.url)
        if f"{url.scheme}://{url.netloc}" != probe:
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            where = "--url" if self.pid is not None else "the server pinkclinic starts"
            raise UsageError(f"--load takes a path, not a URL ({spec.url}): the host and port "
                             f"come from {where}; use --load '... {path}'")

    @property
    def load_args(self) -> list[str]:
        """The load as bench arguments; the default load unless another mode was chosen."""
        if self.no_load or self.on_port:
            return []
        return shlex.split(self.load if self.load is not None else DEFAULT_LOAD)

    def manifest_options(self) -> dict[str, Any]:
        """What goes into ``manifest.json`` (JSON-able, no environment)."""
        d = asdict(self)
        d.pop("command")
        d["load"] = None if (self.no_load or self.on_port) else (self.load or DEFAULT_LOAD)
        for key in ("load", "on_port"):  # shell command lines: redacted word by word
            d[key] = redact.command_line(d[key])
        return d
