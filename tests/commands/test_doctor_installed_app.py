"""An installed app's code is the user's code (issue 14): a package built into a wheel,
installed into a site-packages folder, served by ``gunicorn -w 2``. Its view's wait is
the culprit, not gunicorn's arbiter in the master process, which serves no request."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.commands.culprit_stacks import check_culprits
from tests.helpers import run_cli

APP_SRC = Path(__file__).resolve().parent.parent / "analysis" / "apps" / "pinkshop"


def build_wheel(src: Path, dest: Path, name: str = "pinkshop", version: str = "1.0") -> Path:
    """A pure-Python wheel of the package at ``src`` (PEP 427: files, METADATA, WHEEL, RECORD)."""
    wheel = dest / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files = {f"{name}/{p.name}": p.read_bytes() for p in sorted(src.glob("*.py"))}
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: pinkclinic-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    with zipfile.ZipFile(wheel, "w") as z:
        for path, data in files.items():
            z.writestr(path, data)
    return wheel


@pytest.fixture(scope="module")
def site_packages(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("installed")
    wheel = build_wheel(APP_SRC, tmp)
    target = tmp / "lib" / "site-packages"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--disable-pip-version-check",
                    "--target", str(target), str(wheel)], check=True, timeout=120)
    assert (target / "pinkshop" / "wsgi.py").is_file()
    return target


def test_an_installed_apps_wait_is_named_under_gunicorn(tmp_path, site_packages):
    env = {**os.environ, "PYTHONPATH": str(site_packages)}
    proc = run_cli("doctor", "--dest", str(tmp_path), "--name", "shop", "--load", "-c 8 -d 3 /delay/0.05",
                   "--", sys.executable, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:0",
                   "pinkshop.wsgi:app", timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    rec = tmp_path / "shop.pinkclinic-doctor"
    d = json.loads((rec / "diagnosis.json").read_text())
    assert d["verdict"] == "io-wait", d["summary"]
    check_culprits(d, rec)  # the installed app counts as the user's code there too
    culprits = d["issues"][0]["culprits"]
    assert culprits and culprits[0]["function"] == "delay_response", culprits
    assert "site-packages/pinkshop/wsgi.py" in culprits[0]["file"]
    assert all("serve_forever" not in c["function"] and "Arbiter" not in c["function"] for c in culprits)
