"""Helpers shared by the test suite: ports, the CLI as a subprocess, sample servers.

Everything here drives real processes. Tests never mock below the CLI-parsing layer.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 15.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


def pinkclinic_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "pinkclinic", *args]


def run_cli(*args: str, timeout: float = 120, check: bool = False, **kw) -> subprocess.CompletedProcess:
    """Run ``python -m pinkclinic ARGS`` and capture its output as text."""
    proc = subprocess.run(pinkclinic_cmd(*args), capture_output=True, text=True,
                          timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"pinkclinic {' '.join(args)} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


@contextlib.contextmanager
def server(cmd: list[str], port: int, *, timeout: float = 20.0, **kw) -> Iterator[subprocess.Popen]:
    """Start a server in its own session, wait for its port, and stop its whole group after."""
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, **kw)
    try:
        try:
            wait_port(port, timeout, proc)
        except Exception:
            proc.kill()
            _, err = proc.communicate(timeout=5)
            raise RuntimeError(f"{cmd} did not start: {err.decode(errors='replace')[-2000:]}") from None
        yield proc
    finally:
        stop_group(proc)


def stop_group(proc: subprocess.Popen, timeout: float = 5.0, sig: int = signal.SIGTERM) -> None:
    """Stop a process started in its own session: ``sig`` to its group, SIGKILL after
    ``timeout``, then SIGKILL to whatever of the group is left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    # the group may outlive its leader (forked workers)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    for stream in (proc.stdout, proc.stderr, proc.stdin):
        if stream:
            stream.close()


# an HTTP server in Perl (``perl -e PERL_SERVER PORT``): a target with no Python in it
PERL_SERVER = ('use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", '
               'LocalPort => $ARGV[0], Listen => 64, ReuseAddr => 1) or die; '
               'while (my $c = $s->accept) { while (my $l = <$c>) { last if $l =~ /^\\r?$/ } '
               'print $c "HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\nok"; '
               'close $c }')


TAG_VAR = "PINKCLINIC_TEST_TAG"


def tagged_processes(tag: str) -> list[tuple[int, str]]:
    """Live (non-zombie) processes whose environment carries ``PINKCLINIC_TEST_TAG=tag``."""
    needle = f"{TAG_VAR}={tag}".encode()
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            if state in (b"Z", b"X"):
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        found.append((int(entry), cmdline))
    return found


@contextlib.contextmanager
def busy_core(core: int = 0) -> Iterator[subprocess.Popen]:
    """A process that keeps one core busy for as long as the block runs: a shared CI machine."""
    code = "while True: pass"
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                            preexec_fn=lambda: os.sched_setaffinity(0, {core % os.cpu_count()}))
    try:
        yield proc
    finally:
        stop_group(proc)
