"""The bootstrap sitecustomize: chaining, switching off, and leaving the target alone."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.bootstrap.probe_env import probe_env, python, records, run

SHADOWED = """\
import builtins
builtins.PK_CHAINED = "chained"
VALUE = 42
"""

SHOW = ("import builtins, sys, sitecustomize; "
        "print(getattr(builtins, 'PK_CHAINED', None), getattr(sitecustomize, 'VALUE', None), "
        "'pinkclinic_probe' in sys.modules)")


@pytest.fixture
def site_dir(tmp_path):
    d = tmp_path / "site"
    d.mkdir()
    (d / "sitecustomize.py").write_text(SHADOWED)
    return d


def _probe_files(rec):
    return sorted(p.name for p in rec.iterdir())


def test_chains_the_shadowed_sitecustomize_then_starts_the_probe(tmp_path, site_dir):
    rec = tmp_path / "rec"
    rec.mkdir()
    out = run([sys.executable, "-c", SHOW], probe_env(rec, extra_path=[site_dir]))
    assert out.returncode == 0 and out.stderr == ""
    assert out.stdout.split() == ["chained", "42", "True"]
    files = _probe_files(rec)
    assert len(files) == 1 and files[0].startswith("probe-")
    header = json.loads((rec / files[0]).read_text().splitlines()[0])
    assert header["stream"] == "probe" and header["schema_version"] == 1
    assert header["features"] == ["loop", "gc", "tasks", "threads", "listen"]


def test_without_the_probe_variable_only_the_chain_runs(site_dir):
    out = run([sys.executable, "-c", SHOW], probe_env(None, extra_path=[site_dir]))
    assert out.returncode == 0 and out.stderr == ""
    assert out.stdout.split() == ["chained", "42", "False"]


def test_a_failing_shadowed_sitecustomize_is_reported_as_site_would(tmp_path, site_dir):
    (site_dir / "sitecustomize.py").write_text("VALUE = 1\nraise ValueError('boom')\n")
    rec = tmp_path / "rec"
    rec.mkdir()
    code = "print('main ran')"
    plain = run([sys.executable, "-c", code], {**probe_env(None), "PYTHONPATH": str(site_dir)})
    ours = run([sys.executable, "-c", code], probe_env(rec, extra_path=[site_dir]))
    assert "Error in sitecustomize" in plain.stderr and "ValueError: boom" in plain.stderr
    assert (ours.returncode, ours.stdout, ours.stderr) == (plain.returncode, plain.stdout,
                                                            plain.stderr)
    assert len(_probe_files(rec)) == 1  # the probe still started


def test_isolated_mode_disables_the_bootstrap(tmp_path):
    out = run([sys.executable, "-I", "-c", "import sys; print('pinkclinic_probe' in sys.modules)"],
              probe_env(tmp_path))
    assert (out.returncode, out.stdout.strip(), out.stderr) == (0, "False", "")
    assert _probe_files(tmp_path) == []


def test_nothing_heavy_is_imported_eagerly(tmp_path):
    code = ("import sys; print(sorted(m for m in ('asyncio', 'uvloop', 'pyinstrument', 'memray',"
            " 'pinkclinic') if m in sys.modules))")
    out = run([sys.executable, "-c", code], probe_env(tmp_path))
    assert (out.returncode, out.stdout.strip(), out.stderr) == (0, "[]", "")


@pytest.mark.parametrize("config", ["not json", '["a list"]', '{"dir": "/nonexistent/x"}',
                                    '{"dir": 7}', '{"dir": "%s", "features": "loop"}'])
def test_an_unusable_configuration_is_silent(tmp_path, config):
    env = probe_env(None)
    env["PINKCLINIC_PROBE"] = config.replace("%s", str(tmp_path))
    out = run([sys.executable, "-c", "print('ok')"], env)
    assert (out.returncode, out.stdout.strip(), out.stderr) == (0, "ok", "")
    assert _probe_files(tmp_path) == []


def test_an_unknown_feature_is_an_error_record(tmp_path):
    out = run([sys.executable, "-c", "import os; print(os.getpid())"],
              probe_env(tmp_path, ["threads", "bogus"]))
    assert out.returncode == 0 and out.stderr == ""
    errors = records(tmp_path, int(out.stdout), "error")
    assert [e["feature"] for e in errors] == ["bogus"]
    started = [r["feature"] for r in records(tmp_path, int(out.stdout), "feature")
               if r["state"] == "started"]
    assert started == ["threads"]


@pytest.mark.parametrize("version", ["2.7", "3.6"])
def test_older_pythons_in_the_tree_are_unharmed(tmp_path, site_dir, version):
    exe = python(version)
    if exe is None:
        pytest.skip(f"no Python {version} under pyenv")
    rec = tmp_path / "rec"
    rec.mkdir()
    (site_dir / "sitecustomize.py").write_text("import sys\nsys.PK_CHAINED = 'chained'\n")
    code = "import sys, sitecustomize; print(sys.PK_CHAINED)"
    out = run([exe, "-c", code], probe_env(rec, extra_path=[site_dir]))
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert out.stdout.strip() == "chained"
    assert _probe_files(rec) == []  # the probe itself needs 3.8+


FORK = """
import os, sys, threading, time
if sys.argv[1] == "thread":
    threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
time.sleep(0.3)  # the probe's threads are up
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
print("forked")
"""


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_the_probe_threads_add_no_fork_warning(tmp_path, version):
    exe = python(version)
    if exe is None:
        pytest.skip(f"no Python {version} under pyenv")
    for mode in ("alone", "thread"):
        plain = run([exe, "-c", FORK, mode], probe_env(None))
        ours = run([exe, "-c", FORK, mode], probe_env(tmp_path))
        assert ours.stdout == plain.stdout == "forked\n"
        # CPython warns about a fork in a multi-threaded process: only when the target
        # itself has a thread, with or without the probe
        assert ("multi-threaded" in plain.stderr) == (mode == "thread")
        assert ours.stderr.count("multi-threaded") == plain.stderr.count("multi-threaded"), (
            mode, ours.stderr)


def test_the_launcher_helper_builds_a_working_environment(tmp_path, site_dir, monkeypatch):
    from pinkclinic.target import probe_env as launcher_env

    monkeypatch.setenv("PYTHONPATH", str(site_dir))  # the target's own entries
    env = {**probe_env(None), **launcher_env(tmp_path, ["threads"], threads_ms=200)}
    assert env["PYTHONPATH"].split(os.pathsep)[1:] == [str(site_dir)]  # the target's kept
    out = run([sys.executable, "-c", SHOW], env)
    assert out.returncode == 0 and out.stdout.split() == ["chained", "42", "True"]
    (path,) = tmp_path.glob("probe-*.jsonl")
    header = json.loads(path.read_text().splitlines()[0])
    assert header["features"] == ["threads"] and header["options"] == {"threads_ms": 200}
