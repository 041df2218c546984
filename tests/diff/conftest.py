"""The in-process command line for the diff tests."""

from __future__ import annotations

import pytest


class Ran:
    def __init__(self, code, out, err):
        self.returncode, self.stdout, self.stderr = code, out, err


@pytest.fixture
def cli(capsys):
    """The command line in this process (the real click layer and main(); a subprocess
    costs a second of imports): returns an object shaped like run_cli's."""
    from pinkclinic.cli import main

    def run(*args):
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as e:
            code = e.code
        out, err = capsys.readouterr()
        return Ran(code, out, err)
    return run
