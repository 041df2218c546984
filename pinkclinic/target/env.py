"""The environment that switches the in-process probe on (see docs/recording-format.md).

The probe itself lives in ``pinkclinic/bootstrap`` and is someone else's; the launcher
only sets ``PYTHONPATH`` (bootstrap first, existing entries kept) and ``PINKCLINIC_PROBE``.
"""

from __future__ import annotations

import json
import os

from pinkclinic.resources import BOOTSTRAP_DIR

DEFAULT_FEATURES = ("loop", "gc", "tasks", "threads", "listen")


def probe_env(directory: str | os.PathLike, features=DEFAULT_FEATURES, **options) -> dict[str, str]:
    """Environment additions for :meth:`Target.release`: the probe writes into ``directory``."""
    config = {"dir": os.path.abspath(directory), "features": list(features), **options}
    path = [str(BOOTSTRAP_DIR)]
    if os.environ.get("PYTHONPATH"):
        path.append(os.environ["PYTHONPATH"])
    return {"PYTHONPATH": os.pathsep.join(path),
            "PINKCLINIC_PROBE": json.dumps(config, sort_keys=True)}
