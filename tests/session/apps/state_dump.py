"""Injected into a target by the tests to read what the probe may have left behind,
importing nothing new. ``OUT`` is set above this text."""
import gc
import sys
import threading

with open(OUT, "w") as f:  # noqa: F821 - set by the test
    f.write(repr({
        "threads": sorted(t.name for t in threading.enumerate()),
        "gc_callbacks": len(gc.callbacks),
        "modules": sorted(m for m in sys.modules if m.startswith("pinkclinic")),
        "meta_path": [type(f).__name__ for f in sys.meta_path],
        "set_running_loop": getattr(sys.modules.get("asyncio"), "_set_running_loop", None)
        .__module__ if "asyncio" in sys.modules else None,
    }))
