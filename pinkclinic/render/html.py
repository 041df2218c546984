"""Shared HTML plumbing: one jinja2 environment, inlined assets, safe embedded JSON.

Reports are single self-contained files: CSS and JS from ``templates/assets``
are inlined, data travels as JSON inside ``<script type="application/json">``
with ``<``, ``>`` and ``&`` escaped, and autoescaping is on for every template,
so no string from the target can close a tag or run code.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup

from pinkclinic.resources import template_text, templates_dir


def json_for_script(obj: Any) -> Markup:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return Markup(text)


def inline_asset(name: str) -> Markup:
    text = template_text(f"assets/{name}")
    if "</script" in text.lower() or "</style" in text.lower():
        raise ValueError(f"asset {name} contains a closing tag and cannot be inlined")
    return Markup(text)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.globals["asset"] = inline_asset
    env.filters["json_script"] = json_for_script
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
