"""Installed apps' code counts as the user's code, and a task or thread that serves no
request is never a culprit (issue 14's httpbin under gunicorn), on synthetic recordings."""

import pytest

from pinkclinic.analysis import io_wait
from pinkclinic.analysis.culprits import is_app_file, rank
from pinkclinic.profile.app_code import app_code, app_modules
from pinkclinic.profile.areas import APP, AreaClassifier
from tests.synth import STDLIB, Synth, spy_thread

SITE = "/venv/lib/python3.11/site-packages"
SERVE_FOREVER = ["Server.serve_forever", f"{STDLIB}/asyncio/base_events.py", 369]
ARBITER = [["Arbiter.run", f"{SITE}/gunicorn/arbiter.py", 230],
           ["Arbiter.sleep", f"{SITE}/gunicorn/arbiter.py", 380]]
VIEW = [["SyncWorker.handle", f"{SITE}/gunicorn/workers/sync.py", 136],
        ["view_func", f"{SITE}/flask/app.py", 900],
        ["delay_response", f"{SITE}/httpbin/core.py", 1290]]


@pytest.mark.parametrize("argv, want", [
    (["/venv/bin/gunicorn", "-w", "2", "-b", "127.0.0.1:8000", "httpbin:app"], {"httpbin"}),
    (["python3", "-m", "uvicorn", "--factory", "shop.main:create_app"], {"shop"}),
    (["python", "-X", "dev", "-m", "shop"], {"shop"}),
    (["flask", "--app", "shop.web", "run"], {"shop"}),
    (["jupyter", "server"], {"jupyter_server"}),
    (["python", "app.py"], set()),  # a script: its folder is the user's code already
    (["python", "-c", "import x"], set()),
    (["/venv/bin/python3.12", "-m", "gunicorn", "-w", "2", "pinkshop.wsgi:app"], {"pinkshop"}),
    (["/venv/bin/uvicorn", "--factory", "shop.main:create_app", "--port", "0"], {"shop"}),
    (["gunicorn", "--bind", "localhost:8000", "shop:app"], {"shop"}),  # an address, no app
    (["gunicorn", "-b", "unix:gunicorn.sock", "shop:app"], {"shop"}),  # a socket, no app
    (["datasette", "serve", "fixtures.db"], {"datasette"}),  # a console script's package
    (["celery", "-A", "shop.tasks", "worker"], {"shop"}),
    (["python", "-m", "pinkclinic", "doctor", "--", "python", "app.py"], set()),
])
def test_the_app_package_from_the_command_line(argv, want):
    assert app_modules([argv], script_packages={}) == want


def test_inside_app_code_the_installed_package_is_the_users_code():
    httpbin = f"{SITE}/httpbin/core.py"
    assert not is_app_file(httpbin)
    assert AreaClassifier({})("delay_response", httpbin) == "deps:httpbin"
    with app_code({"httpbin"}):
        assert is_app_file(httpbin)
        assert not is_app_file(f"{SITE}/flask/app.py")
        assert AreaClassifier({})("delay_response", httpbin) == APP
    assert not is_app_file(httpbin)


INSTALLED = {"httpbin"}
DECISIONS = [
    # path, the user's code outside app_code(INSTALLED), inside it
    (f"{SITE}/httpbin/core.py", False, True),  # the installed app: the user's code
    (f"{SITE}/httpbin.py", False, True),  # a single-module install
    ("/usr/lib/python3/dist-packages/httpbin/core.py", False, True),
    ("C:\\venv\\Lib\\site-packages\\httpbin\\core.py", False, True),
    (f"{SITE}/httpbin_extras/views.py", False, False),  # another package, same prefix
    (f"{SITE}/flask/app.py", False, False),  # the framework
    (f"{SITE}/gunicorn/arbiter.py", False, False),
    (f"{SITE}/werkzeug/serving.py", False, False),
    (f"{STDLIB}/asyncio/base_events.py", False, False),  # the stdlib
    (f"{STDLIB}/json/__init__.py", False, False),
    ("/usr/lib/python3.11/socketserver.py", False, False),
    ("<frozen importlib._bootstrap>", False, False),
    ("<built-in>", False, False),
    (f"{SITE}/pinkclinic/bootstrap/pinkclinic_probe/_watch.py", False, False),  # the probe
    ("/srv/shop/views.py", True, True),  # a project's own folder
    ("/home/me/app.py", True, True),
]


@pytest.mark.parametrize("path, outside, inside", DECISIONS, ids=[d[0] for d in DECISIONS])
def test_exact_app_code_decisions(path, outside, inside):
    assert is_app_file(path) is outside
    with app_code(INSTALLED):
        assert is_app_file(path) is inside
        if path.endswith(".py"):  # the flame graph's areas agree
            assert (AreaClassifier({})("f", path) == APP) is inside
    assert is_app_file(path) is outside  # the block ends, the decision with it


def test_an_installed_apps_view_is_the_culprit_with_the_framework_under_it_as_via():
    stack = [*VIEW, ["dumps", f"{STDLIB}/json/__init__.py", 231]]
    with app_code(INSTALLED):
        (c,) = rank([(stack, 1.0)])
        assert (c.function, c.extra["via"]["function"]) == ("delay_response", "dumps")
    # not known as the app: a library stack, its innermost frame, no via
    (c,) = rank([(stack, 1.0)])
    assert c.function == "dumps" and "via" not in c.extra


def _io_wait_rec(tmp_path, command):
    """An idle server with slow answers: the master's asyncio Server.serve_forever task and
    arbiter thread, and worker threads blocked in an installed app's view."""
    s = Synth(tmp_path)
    s.rec.update(command=command)
    s.processes(pid=100, cores=0.02)
    s.processes(pid=101, ppid=100, cores=0.05)
    s.load(rps=40, p50_ms=200.0)
    p = s.probe(pid=100)
    p.waits([([["main", f"{SITE}/gunicorn/app/base.py", 70], SERVE_FOREVER], 1)])
    s.pyspy(spy_thread(100, 100, [(ARBITER, 1.0)]), spy_thread(101, 101, [(VIEW, 1.0)]))
    return s


def test_an_installed_apps_view_is_the_culprit_not_the_masters_loop(tmp_path):
    s = _io_wait_rec(tmp_path, ["/venv/bin/gunicorn", "-w", "2", "httpbin:app"])
    d = s.diagnose()
    assert d["verdict"] == "io-wait", d["summary"]
    assert [c["function"] for c in d["issues"][0]["culprits"]] == ["delay_response"]


def test_a_loop_that_serves_no_request_is_never_a_culprit(tmp_path):
    # the app is not known (no app reference on the command line): still, neither the
    # master's serve_forever task nor the arbiter is named
    s = _io_wait_rec(tmp_path, ["/venv/bin/somerunner"])
    f = io_wait.analyse(s.data())
    assert f.category == "io-wait"
    assert all(c.function not in ("Server.serve_forever", "Arbiter.sleep") for c in f.culprits)
