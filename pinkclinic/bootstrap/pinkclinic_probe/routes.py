"""Feature ``routes``: each HTTP request's method, path, time and status, for the
per-route table of a run whose load pinkclinic does not drive (``--on-port``).

When a server it knows loads the app, the app is wrapped (``_app_wrap``):
- uvicorn: ``uvicorn.config.Config.load`` (``loaded_app``, ASGI; also uvicorn's own
  WSGI middleware, and each ``--workers`` process, which runs its own probe);
- gunicorn: ``gunicorn.workers.base.Worker.load_wsgi`` (``wsgi``; not for ASGI worker
  classes: uvicorn's own is caught by the uvicorn hook);
- werkzeug (``flask run``, ``app.run``): ``werkzeug.serving.make_server``;
- wsgiref: ``wsgiref.simple_server.WSGIServer.set_app``;
- hypercorn (its CLI and ``hypercorn.asyncio.serve``/``hypercorn.trio.serve``):
  ``hypercorn.utils.wrap_app``, which every path to a served app goes through (ASGI and
  WSGI; also each ``--workers`` process, which runs its own probe).
Other servers are not wrapped: the table then says it is not available.

The wrapper appends one tuple per request to a list; every ``routes_ms`` (1000) the
sampler thread takes them and writes one ``requests`` record to ``requests-<PID>.jsonl``
(its own stream: it holds raw paths, which pinkclinic turns into route templates in
``routes.json`` and then deletes; see docs/recording-format.md). At most ``MAX_KEPT``
requests per process are written, the rest are counted in ``dropped``.

At the end (exit, or an attached probe's detach) the last requests are written, the
wrappers stop timing, and every patched method and wrapped app is put back. Attached to a
live process, the apps already loaded are found by one scan of ``gc.get_objects()``
(uvicorn's ``Config`` and its connections, gunicorn's workers).
"""
import gc
import os
import sys
import threading
import time

from . import _app_wrap, _imphook
from ._core import Writer

MAX_KEPT = 1000000
SCHEMA_VERSION = 1


class _Routes:
    def __init__(self, probe):
        self.probe = probe
        self.items = []  # (method, path, start, end, status): appended by the wrappers
        self.on = [True]  # read by the wrappers: False once the feature stopped
        self.patched = []  # (owner, name, original): methods to put back
        self.wrapped = []  # (object, attribute, original app)
        self.hooks = []  # (module name, callback) still awaited
        self.writer = None
        self.kept = 0
        self.dropped = 0
        self.live = False  # attached to a running server: its connections are unwrapped too
        self.flushing = threading.Lock()  # the sampler's flush against the final one at exit

    # -- wrapping ---------------------------------------------------------------
    def wrap(self, app, interface, server, owner=None, attr=None):
        if app is None or _app_wrap.is_wrapped(app):
            return app
        wrapper = (_app_wrap.asgi if interface == "asgi" else _app_wrap.wsgi)(
            app, self.items.append, self.on)
        if owner is not None:
            self.wrapped.append((owner, attr, app))
        self._open().write({"type": "app", "server": server, "interface": interface,
                            "t": time.time()})
        return wrapper

    def _open(self):
        if self.writer is None or self.writer_pid != os.getpid():
            self.writer_pid = os.getpid()
            self.writer = Writer(self.probe.path(f"requests-{self.writer_pid}.jsonl"), {
                "schema_version": SCHEMA_VERSION, "stream": "requests",
                "pid": self.writer_pid, "t": time.time()})
        return self.writer

    def patch(self, owner, name, make):
        original = owner.__dict__.get(name)
        if original is None:
            return
        setattr(owner, name, make(original))
        self.patched.append((owner, name, original))

    # -- the sampler's side -----------------------------------------------------
    def flush(self):
        with self.flushing:
            self._flush()

    def _flush(self):
        n = len(self.items)
        if not n:
            return
        batch = self.items[:n]
        del self.items[:n]  # list ops are atomic: appends made meanwhile stay for next time
        room = max(0, MAX_KEPT - self.kept)
        self.dropped += max(0, n - room)
        batch = batch[:room]
        self.kept += len(batch)
        offset = time.time() - time.perf_counter()
        t0 = round(batch[0][2] + offset, 3) if batch else round(time.time(), 3)
        base = t0 - offset  # perf_counter seconds at t0
        keys, index = [], {}
        route = []
        for b in batch:
            key = (b[0], b[1])
            i = index.get(key)
            if i is None:
                i = index[key] = len(keys)
                keys.append(key)
            route.append(i)
        # integer microseconds: a float's repr costs most of a record's writing
        self._open().write({"type": "requests", "t": time.time(), "t0": t0, "routes": keys,
                            "route": route,
                            "start_us": [int((b[2] - base) * 1e6) for b in batch],
                            "dur_us": [int((b[3] - b[2]) * 1e6) for b in batch],
                            "status": [b[4] if b[4].__class__ is int else _status(b[4])
                                       for b in batch],
                            "dropped": self.dropped})

    def after_fork(self):
        """A forked child: the parent writes what it had; the child its own."""
        del self.items[:]
        if self.writer is not None:
            self.writer.abandon()  # the parent's file: its descriptor is not the child's to use
        self.writer, self.kept, self.dropped = None, 0, 0  # its own file, at its first flush
        self.flushing = threading.Lock()

    def stop(self):
        try:
            self.flush()
            if self.writer is not None and self.writer_pid == os.getpid():
                self.writer.close()
        finally:
            self.on[0] = False
            for name, callback in self.hooks:
                _imphook.cancel(name, callback)
            for owner, name, original in reversed(self.patched):
                setattr(owner, name, original)
            for obj, attr, app in reversed(self.wrapped):
                if _app_wrap.is_wrapped(getattr(obj, attr, None)):
                    setattr(obj, attr, app)
            if self.live:
                _unwrap_live()


def _status(st):
    if isinstance(st, int):
        return st
    try:
        return int(str(st)[:3])
    except ValueError:
        return 0


def _wrap_after(state, cls, method, attr, interface, server, wanted=lambda obj: True):
    """Patch ``cls.method`` so that, once it ran, the app it left in ``attr`` is wrapped
    (when ``wanted(self)``) and put back at stop."""
    def make(original):
        def patched(self, *args, **kwargs):
            original(self, *args, **kwargs)
            if wanted(self):
                setattr(self, attr, state.wrap(getattr(self, attr), interface, server, self, attr))
        return patched
    state.patch(cls, method, make)


def _wsgi_worker(obj):
    """A gunicorn worker class serving WSGI (uvicorn's ASGI worker is the uvicorn hook's)."""
    kind = type(obj).__module__
    return "asgi" not in kind and not kind.startswith("uvicorn")


def _uvicorn(state):
    return lambda module: _wrap_after(state, module.Config, "load", "loaded_app", "asgi", "uvicorn")


def _gunicorn(state):
    return lambda module: _wrap_after(state, module.Worker, "load_wsgi", "wsgi", "wsgi", "gunicorn",
                                      _wsgi_worker)


def _werkzeug(state):
    def hook(module):
        def make(original):
            def make_server(host, port, app, *args, **kwargs):
                server = original(host, port, state.wrap(app, "wsgi", "werkzeug"), *args, **kwargs)
                state.wrapped.append((server, "app", app))
                return server
            return make_server
        state.patch(module, "make_server", make)
    return hook


def _wsgiref(state):
    def hook(module):
        def make(original):
            def set_app(self, application):
                original(self, state.wrap(application, "wsgi", "wsgiref", self, "application"))
            return set_app
        state.patch(module.WSGIServer, "set_app", make)
    return hook


_HYPERCORN_USERS = ("hypercorn.asyncio", "hypercorn.trio")  # took ``wrap_app`` by name


def _hypercorn(state):
    def hook(module):
        def make(original):
            def wrap_app(app, wsgi_max_body_size, mode=None):
                if mode is None:  # hypercorn's own choice, made on the app it was given
                    mode = "asgi" if module.is_asgi(app) else "wsgi"
                return original(state.wrap(app, mode, "hypercorn"), wsgi_max_body_size, mode)
            return wrap_app
        state.patch(module, "wrap_app", make)
        patched = module.wrap_app
        for name in _HYPERCORN_USERS:  # imported after hypercorn.utils: see the patched one
            state.hooks.append((name, _rebind_later(state, name, patched)))
            _imphook.when_imported(name, state.hooks[-1][1])
    return hook


def _rebind_later(state, name, patched):
    """When ``name`` (which did ``from ..utils import wrap_app``) is imported, note its
    binding of the patched ``wrap_app`` so that the stop puts the original back there too."""
    def hook(module):
        if getattr(module, "wrap_app", None) is patched:
            original = next(o for owner, n, o in state.patched if n == "wrap_app")
            state.patched.append((module, "wrap_app", original))
    return hook


HOOKS = (("uvicorn.config", _uvicorn), ("gunicorn.workers.base", _gunicorn),
         ("werkzeug.serving", _werkzeug), ("wsgiref.simple_server", _wsgiref),
         ("hypercorn.utils", _hypercorn))


def _live_apps():
    """(object, attribute, interface, server) of the apps a running server already holds."""
    config = getattr(sys.modules.get("uvicorn.config"), "Config", None)
    worker = getattr(sys.modules.get("gunicorn.workers.base"), "Worker", None)
    hyper = sys.modules.get("hypercorn.app_wrappers")
    hyper = tuple(getattr(hyper, n) for n in ("ASGIWrapper", "WSGIWrapper") if hasattr(hyper, n))
    found = []
    for obj in gc.get_objects():
        try:
            if hyper and isinstance(obj, hyper) and getattr(obj, "app", None) is not None:
                kind = "asgi" if type(obj).__name__ == "ASGIWrapper" else "wsgi"
                found.append((obj, "app", kind, "hypercorn"))
            elif config is not None and isinstance(obj, config) and getattr(obj, "loaded", False):
                found.append((obj, "loaded_app", "asgi", "uvicorn"))
            elif worker is not None and isinstance(obj, worker) and getattr(obj, "wsgi", None):
                if _wsgi_worker(obj):
                    found.append((obj, "wsgi", "wsgi", "gunicorn"))
            elif type(obj).__module__.startswith("uvicorn.protocols.http") and hasattr(obj, "app"):
                found.append((obj, "app", "asgi", "uvicorn"))
        except Exception:
            pass
    return found


def _unwrap_live():
    """The wrappers that live connections of an attached uvicorn took: put the app back."""
    if "uvicorn.protocols" not in sys.modules:
        return
    for obj in gc.get_objects():
        try:
            if type(obj).__module__.startswith("uvicorn.protocols.http") and \
                    _app_wrap.is_wrapped(getattr(obj, "app", None)):
                obj.app = obj.app.__wrapped__
        except Exception:
            pass


def install(probe):
    state = _Routes(probe)
    already = [name for name, _ in HOOKS if name in sys.modules]
    for name, make in HOOKS:
        callback = make(state)
        state.hooks.append((name, callback))
        _imphook.when_imported(name, callback)
    if already:  # attached to a live server: wrap what it already loaded
        state.live = True
        wrappers = {}
        for obj, attr, interface, server in _live_apps():
            app = getattr(obj, attr)
            if id(app) not in wrappers:  # one wrapper per app: its connections share it
                wrappers[id(app)] = state.wrap(app, interface, server)
            setattr(obj, attr, wrappers[id(app)])
            state.wrapped.append((obj, attr, app))
    period = probe.opt("routes_ms", 1000) / 1000.0
    probe.every(period, state.flush, "routes")
    probe.on_fork(state.after_fork)
    probe.on_exit(state.stop)
    return {"routes_ms": period * 1000, "servers_loaded": sorted(already)}
