"""HTML renderers: one jinja2 environment for every report, plus the helpers they share.

Rules every report follows (and tests check):

* self-contained: CSS and JS are inlined from ``templates/assets``; no network;
* every string from the target is escaped: jinja2 autoescape for markup, and
  :func:`script_json` for data placed inside ``<script>`` elements (the page's
  scripts only ever put target strings into the DOM with ``textContent``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup

from pinkclinic.resources import template_text, templates_dir

# Content-Security-Policy for every report: inline code only, nothing fetched.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
       "img-src data:; base-uri 'none'; form-action 'none'")


@lru_cache(maxsize=1)
def env() -> jinja2.Environment:
    e = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    e.globals.update(asset=asset, csp=CSP)
    e.filters["script_json"] = script_json
    return e


def asset(name: str) -> Markup:
    """The text of ``templates/assets/NAME``, to inline in a <style> or <script>."""
    text = template_text(f"assets/{name}")
    if "</" in text.replace("<\\/", ""):
        raise ValueError(f"assets/{name} contains '</', which would end its element early")
    return Markup(text)


def script_json(obj: Any) -> Markup:
    """JSON safe to place inside ``<script type="application/json">``.

    ``<``, ``>`` and ``&`` only occur inside JSON strings here, so writing them as
    ``\\u003c``... keeps the JSON equal while no target string can close the element.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return Markup(text)


def render(template: str, **context: Any) -> str:
    return env().get_template(template).render(**context)
