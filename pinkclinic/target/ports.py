"""Which port the target serves on, and whether it really answers HTTP.

Sources, merged: psutil's LISTEN sockets over the whole process tree (workers inherit
the listening socket, so (ip, port) is deduplicated) and the in-process probe's
``listen`` records (``probe-*.jsonl`` lines with ``"type": "listen"``, read by
:mod:`pinkclinic.probe`). A socket appears before the app has finished starting, so a
port only counts once a real HTTP request gets any HTTP response back.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass, field

import psutil

from pinkclinic.errors import PinkError
from pinkclinic.probe import probe_paths, read_probe_file

IN_USE_RE = re.compile(r"address already in use|EADDRINUSE|Errno 98\b|Errno 48\b|"
                       r"connection in use|only one usage of each socket address", re.I)
_PORT_IN_LINE = (re.compile(r"'[\w.:]*',\s*(\d{1,5})\)"), re.compile(r"\bport\s+(\d{1,5})", re.I),
                 re.compile(r":(\d{1,5})\b"))


@dataclass
class Listening:
    """The port the load should go to, and every candidate that was seen."""

    host: str
    port: int
    candidates: list[tuple[str, int]] = field(default_factory=list)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def connect_host(ip: str) -> str:
    """The address to connect to for a socket bound to ``ip`` (wildcards -> loopback)."""
    if ip in ("", "0.0.0.0"):
        return "127.0.0.1"
    if ip in ("::", "::0"):
        return "::1"
    if ip.startswith("::ffff:"):
        return ip[7:]
    return ip


def listen_sockets(pids: list[int]) -> list[tuple[str, int]]:
    """LISTEN TCP sockets held by any of ``pids``, deduplicated, in first-seen order."""
    seen: dict[tuple[str, int], None] = {}
    for pid in pids:
        try:
            conns = psutil.Process(pid).net_connections(kind="inet")
        except psutil.Error:
            continue
        for c in conns:
            if c.status == psutil.CONN_LISTEN and c.laddr:
                seen.setdefault((c.laddr.ip, c.laddr.port), None)
    return list(seen)


def probe_listens(directory: str | os.PathLike | None) -> list[tuple[str, int]]:
    """``(host, port)`` from the probe's ``listen`` records in ``directory``, oldest first."""
    if directory is None:
        return []
    found: list[tuple[float, str, int]] = []
    for path in probe_paths(directory):
        try:
            records = read_probe_file(path)[1]
        except (OSError, ValueError):  # gone, or damaged mid-file: no port from it
            continue
        for rec in records:
            if rec.get("type") == "listen" and rec.get("port"):
                found.append((float(rec.get("t") or 0), str(rec.get("host") or ""), int(rec["port"])))
    found.sort()
    return list(dict.fromkeys((h, p) for _, h, p in found))


def http_answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """True if ``HEAD /`` on host:port gets any HTTP response (any status counts)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect((host, port))
            hostname = f"[{host}]" if ":" in host else host
            s.sendall(f"HEAD / HTTP/1.1\r\nHost: {hostname}:{port}\r\nUser-Agent: pinkclinic\r\n"
                      "Connection: close\r\n\r\n".encode())
            data = b""
            while len(data) < 5:
                chunk = s.recv(5 - len(data))
                if not chunk:
                    break
                data += chunk
            return data.startswith(b"HTTP/")
    except OSError:
        return False


def port_owner(port: int) -> tuple[int, str] | None:
    """``(pid, name)`` of a process listening on TCP ``port``, if one can be seen."""
    try:
        conns = psutil.net_connections(kind="inet")
    except (psutil.Error, OSError):
        return None
    for c in conns:
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid:
            try:
                return c.pid, psutil.Process(c.pid).name()
            except psutil.Error:
                return c.pid, "?"
    return None


def check_port_free(port: int) -> None:
    """Raise a one-line :class:`PinkError` if something already listens on ``port``."""
    owner = port_owner(port)
    if owner is None:
        for host, family in (("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6)):
            try:
                with socket.socket(family, socket.SOCK_STREAM) as s:
                    s.settimeout(0.5)
                    if s.connect_ex((host, port)) == 0:
                        raise PinkError(f"port {port} is already in use; stop what listens "
                                        "there or pick another --port")
            except OSError:
                continue
        return
    pid, name = owner
    raise PinkError(f"port {port} is already in use by PID {pid} ({name}); stop it or pick "
                    "another --port")


def port_in_use_line(log_tail: str) -> tuple[str, int | None] | None:
    """The log line that says a bind failed with EADDRINUSE, and the port if it names one."""
    for line in reversed(log_tail.splitlines()):
        if IN_USE_RE.search(line):
            for rx in _PORT_IN_LINE:
                m = rx.search(line)
                if m and 0 < int(m.group(1)) < 65536:
                    return line.strip(), int(m.group(1))
            return line.strip(), None
    return None
