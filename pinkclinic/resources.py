"""Where the shipped files live: ``templates/`` and the injected bootstrap.

In a wheel the top-level ``templates/`` folder is installed as
``pinkclinic/templates``; in a source checkout it sits beside the package.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BOOTSTRAP_DIR = PACKAGE_DIR / "bootstrap"


@lru_cache(maxsize=1)
def templates_dir() -> Path:
    for candidate in (PACKAGE_DIR / "templates", PACKAGE_DIR.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("pinkclinic's templates/ folder is missing from this installation")


def template_text(name: str) -> str:
    """The text of a file under templates/ (e.g. ``"assets/charts.js"``)."""
    return (templates_dir() / name).read_text(encoding="utf-8")
