"""Every launch failure is one clear line (a PinkError), never a traceback."""

from __future__ import annotations

import socket

import pytest

from pinkclinic.errors import PinkError
from pinkclinic.target import spawn
from tests.target.conftest import APPS, PY


def one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def test_command_not_found():
    with pytest.raises(PinkError) as err:
        spawn(["pinkclinic-no-such-command-xyz", "--port", "1"])
    assert one_line(err) == "command not found: pinkclinic-no-such-command-xyz (not on PATH)"
    assert err.value.exit_code == 127


def test_not_executable_is_reported_by_the_gate(tmp_path):
    script = tmp_path / "server.sh"
    script.write_text("echo hi\n")          # no #! line: exec fails with ENOEXEC
    script.chmod(0o755)
    target = spawn([script])
    with pytest.raises(PinkError) as err:
        target.release(tmp_path / "target.log")
    assert "not an executable format" in one_line(err)
    assert target.stop(1).returncode == 127


def test_exits_before_listening_names_code_and_last_log_line(start, tmp_path):
    target = start([PY, APPS / "exit_early.py"])
    with pytest.raises(PinkError) as err:
        target.wait_listening(15)
    msg = one_line(err)
    assert msg.startswith("the target exited with code 3 before listening on a port")
    assert "boom: config file settings.toml not found" in msg
    assert str(tmp_path / "target.log") in msg


def test_never_listens_within_start_timeout(start):
    target = start([PY, "-c", "import time; print('warming up', flush=True); time.sleep(60)"])
    with pytest.raises(PinkError) as err:
        target.wait_listening(1.0)
    msg = one_line(err)
    assert msg.startswith("the target did not listen on any port within 1s (--start-timeout)")
    assert "warming up" in msg


def test_listens_but_never_answers_http(start):
    target = start([PY, "-c", "import socket, time; s = socket.socket(); "
                    "s.bind(('127.0.0.1', 0)); s.listen(); time.sleep(60)"])
    with pytest.raises(PinkError) as err:
        target.wait_listening(1.5)
    assert "but did not answer HTTP within 1.5s" in one_line(err)


@pytest.mark.parametrize("server", ["uvicorn", "http.server"])
def test_port_taken_is_recognised_in_the_log(start, server):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        if server == "uvicorn":
            cmd = [PY, "-m", "uvicorn", "--app-dir", APPS, "--port", port, "hello_asgi:app"]
        else:
            cmd = [PY, "-m", "http.server", port, "--bind", "127.0.0.1"]
        target = start(cmd)
        with pytest.raises(PinkError) as err:
            target.wait_listening(15)
    msg = one_line(err)
    assert "already in use" in msg
    if server == "uvicorn":
        assert f"port {port} is already in use" in msg
