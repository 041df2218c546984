"""Injected into a target by the tests to read what the probe may have left behind,
importing nothing new. ``OUT`` is set above this text."""
import gc
import sys
import threading


def _wrapped_apps():
    """Apps a server holds that feature ``routes`` wrapped (its wrappers' mark)."""
    n = 0
    for o in gc.get_objects():
        try:
            if type(o).__module__.startswith(("uvicorn", "gunicorn")):
                n += any(getattr(getattr(o, a, None), "__pinkclinic_routes__", False)
                         for a in ("loaded_app", "app", "wsgi"))
        except Exception:
            pass
    return n


with open(OUT, "w") as f:  # noqa: F821 - set by the test
    f.write(repr({
        "threads": sorted(t.name for t in threading.enumerate()),
        "gc_callbacks": len(gc.callbacks),
        "modules": sorted(m for m in sys.modules if m.startswith("pinkclinic")),
        "meta_path": [type(f).__name__ for f in sys.meta_path],
        "set_running_loop": getattr(sys.modules.get("asyncio"), "_set_running_loop", None)
        .__module__ if "asyncio" in sys.modules else None,
        "uvicorn_load": getattr(getattr(sys.modules.get("uvicorn.config"), "Config", None), "load",
                                None).__module__ if "uvicorn.config" in sys.modules else None,
        "wrapped_apps": _wrapped_apps(),
    }))
