"""pinkclinic's in-process probe (see docs/recording-format.md, "probe-PID.jsonl").

``start()`` is called by the bootstrap ``sitecustomize`` when ``PINKCLINIC_PROBE`` holds
a JSON object ``{"dir": ..., "features": [...], ...options}``. It opens
``<dir>/probe-<PID>.jsonl`` and installs each listed feature from
``pinkclinic_probe.<feature>`` (``install(probe)``). A feature that fails writes an
``error`` record; nothing ever raises into the target. After ``fork()`` the child
opens its own file and re-arms the features (``Probe.after_fork_child``).

Standard library only, CPython 3.8+.
"""
import atexit
import importlib
import json
import os

from . import _forkwarn
from ._core import Probe

FEATURES = ("loop", "gc", "tasks", "threads", "listen", "pyinstrument", "memray", "routes")
DEFAULT_FEATURES = ("loop", "gc", "tasks", "threads", "listen")

_probe = None


def config_from_env(environ=None):
    """The probe configuration, or ``None`` when it is absent or unusable."""
    raw = (os.environ if environ is None else environ).get("PINKCLINIC_PROBE")
    if not raw:
        return None
    try:
        config = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(config, dict) or not isinstance(config.get("dir"), str):
        return None
    if not os.path.isdir(config["dir"]):
        return None
    features = config.get("features")
    if features is None:
        config["features"] = list(DEFAULT_FEATURES)
    elif not isinstance(features, list):
        return None
    return config


def start(environ=None):
    """Start the probe once per process. Returns the Probe, or None when disabled."""
    global _probe
    if _probe is not None:
        return _probe
    config = config_from_env(environ)
    if config is None:
        return None
    probe = Probe(config)
    try:
        probe.open()
    except OSError:
        return None
    _probe = probe
    probe.on_exit(lambda: [probe.write({"type": "feature", "feature": n, "state": "stopped"})
                           for n in probe.started])
    for name in probe.features:
        if install(probe, name):
            probe.started.append(name)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_child)
        _forkwarn.install(probe)
    atexit.register(probe.shutdown)
    return probe


def install(probe, name):
    if name not in FEATURES:
        probe.error(name, f"unknown feature {name!r}")
        return False
    try:
        module = importlib.import_module("pinkclinic_probe." + name)
        extra = module.install(probe)
    except Exception as e:
        probe.error(name, f"{type(e).__name__}: {e}")
        return False
    rec = {"type": "feature", "feature": name, "state": "started"}
    rec.update(extra or {})
    probe.write(rec)
    return True


def _after_fork_child():
    try:
        if _probe is not None:
            _probe.after_fork_child()
    except Exception:
        pass


def get():
    """The running probe of this process, or None."""
    return _probe
