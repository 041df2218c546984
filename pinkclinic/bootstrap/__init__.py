"""The folder put first on the target's PYTHONPATH (see docs/recording-format.md).

Nothing in this folder may import pinkclinic or any third-party module: it runs
inside the target, on whatever Python version the target uses. This ``__init__`` is
the exception: it is only imported by pinkclinic itself (the target has the folder,
not its parent, on its path) and gives the launcher the environment to set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

DIR = Path(__file__).resolve().parent
DEFAULT_FEATURES = ("loop", "gc", "tasks", "threads", "listen")


def probe_environ(base: Mapping[str, str], rec_dir: str | os.PathLike,
                  features: Iterable[str] = DEFAULT_FEATURES, **options) -> dict[str, str]:
    """A copy of ``base`` with the bootstrap first on ``PYTHONPATH`` (the target's own
    entries kept after it) and ``PINKCLINIC_PROBE`` set for ``rec_dir``."""
    env = dict(base)
    rest = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(DIR)]
    env["PYTHONPATH"] = os.pathsep.join([str(DIR), *rest])
    config = {"dir": str(Path(rec_dir).resolve()), "features": list(features), **options}
    env["PINKCLINIC_PROBE"] = json.dumps(config, sort_keys=True)
    return env
