"""Attaching to running servers: the happy path and every refusal, as one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

import pytest

from pinkclinic import procs
from pinkclinic.errors import PinkError
from pinkclinic.target import attach
from tests.helpers import ROOT, free_port, server
from tests.target.conftest import PY


def test_attach_finds_the_port_and_never_stops_the_server():
    port = free_port()
    with server([PY, "-m", "http.server", str(port), "--bind", "127.0.0.1"], port) as proc:
        target = attach(proc.pid)
        assert target.attached and target.python_pid() == proc.pid
        assert target.wait_listening(10).port == port
        assert target.manifest_target()["attached"] is True
        ending = target.stop(1)
        assert ending.outcome == "detached" and ending.manifest_outcome() == "completed"
        assert procs.is_alive(proc.pid) and proc.poll() is None


def test_attach_to_a_wrapper_finds_its_python_child():
    port = free_port()
    with server(["bash", "-c", f"{PY} -m http.server {port} --bind 127.0.0.1; exit 0"], port) as proc:
        target = attach(proc.pid)
        assert target.python_pid() == procs.children_of(proc.pid)[0]


def test_attach_to_a_pid_that_is_gone():
    proc = subprocess.Popen(["true"])
    proc.wait()
    with pytest.raises(PinkError) as err:
        attach(proc.pid)
    assert str(err.value) == f"no process with PID {proc.pid}: it is gone (or never existed)"


def test_attach_to_a_zombie():
    proc = subprocess.Popen([PY, "-c", "pass"])
    assert procs.wait_gone([proc.pid], 10) == []      # exited, not reaped: a zombie
    try:
        with pytest.raises(PinkError) as err:
            attach(proc.pid)
        assert "is a zombie" in str(err.value)
    finally:
        proc.wait()


def test_attach_to_something_that_is_not_python():
    proc = subprocess.Popen(["sleep", "30"])
    try:
        with pytest.raises(PinkError) as err:
            attach(proc.pid)
        assert str(err.value) == (f"PID {proc.pid} (sleep) is not a Python process, "
                                  "and none of its children is")
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to another user")
def test_attach_and_pyspy_not_permitted_for_another_user():
    """As 'nobody', a root-owned server may not be inspected: both attach() and py-spy
    must say so in one line."""
    port = free_port()
    bindir = tempfile.mkdtemp(prefix="pinkclinic-nobody-")
    try:
        os.chmod(bindir, 0o755)
        from pinkclinic.collect.pyspy import find_pyspy
        pyspy = shutil.copy(find_pyspy(), bindir)
        code = textwrap.dedent(f"""
            import os, sys
            from pinkclinic.errors import PinkError
            from pinkclinic.target import attach
            from pinkclinic.collect import CollectorUnavailable
            from pinkclinic.collect.pyspy import PySpy
            import pinkclinic.target.pyinfo, psutil
            os.setgid(65534); os.setuid(65534)
            try:
                attach(int(sys.argv[1]))
            except PinkError as e:
                print("ATTACH", e)
            try:
                PySpy(int(sys.argv[1]), "/tmp/never.json", executable={pyspy!r},
                      log_path=os.devnull).start(5)
            except CollectorUnavailable as e:
                print("PYSPY", e.signal, e)
            """)
        with server([PY, "-m", "http.server", str(port), "--bind", "127.0.0.1"], port) as proc:
            out = subprocess.run([sys.executable, "-c", code, str(proc.pid)], cwd=ROOT,
                                 capture_output=True, text=True, timeout=30)
        lines = dict(ln.split(" ", 1) for ln in out.stdout.splitlines())
        assert lines["ATTACH"].startswith(f"not permitted to inspect PID {proc.pid} (python")
        assert "ptrace is blocked" in lines["ATTACH"] and "SYS_PTRACE" in lines["ATTACH"]
        assert lines["PYSPY"].startswith("stacks py-spy is not permitted to read PID"), out
    finally:
        shutil.rmtree(bindir)
