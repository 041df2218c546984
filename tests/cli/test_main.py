"""The CLI layer: version, help, and one-line errors."""

from __future__ import annotations

from pinkclinic import __version__
from tests.helpers import run_cli


def test_version_from_module():
    proc = run_cli("--version", check=True)
    assert proc.stdout.strip() == f"pinkclinic, version {__version__}"


def test_unknown_command_is_one_line_and_exit_2():
    proc = run_cli("no-such-command")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "no-such-command" in lines[0]
    assert "Traceback" not in proc.stderr
