"""Renderers: a plan (or a state) as text for a terminal, as Markdown, or as JSON.

Each format is one module; the text ones go through jinja2 templates in
``accessplan/templates``. Renderers only read plans and states, and return
strings: printing is the CLI's job. Every user-supplied string that reaches a
terminal passes :func:`accessplan.errors.sanitize` (the ``s`` filter), so a
name in a manifest cannot rewrite a reviewer's screen; colour codes are added
after that, by the ``color`` filter, and only when colour is on. In Markdown
every such string passes :func:`accessplan.render.mdescape.md` (the ``md``
filter) instead.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import jinja2

from accessplan.errors import sanitize
from accessplan.render.mdescape import md

_CODES = {"bold": "1", "red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36", "dim": "2"}


def paint(text: str, style: str, color: bool) -> str:
    """``text`` in an ANSI ``style`` (``"green"``, ``"bold red"``) when colour is on."""
    if not color or not text:
        return text
    codes = ";".join(_CODES[name] for name in style.split())
    return f"\x1b[{codes}m{text}\x1b[0m"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("accessplan", "templates"),
        autoescape=False,  # terminal text: sanitized with the `s` filter instead
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["s"] = sanitize
    env.filters["md"] = md
    return env


def template(name: str, color: bool) -> Callable[..., str]:
    """A template's render function, with the ``color(style)`` filter bound to ``color``."""
    tpl = _environment().get_template(name)

    def render(**context: object) -> str:
        return tpl.render(color=lambda text, style: paint(str(text), style, color), **context)

    return render


def macros(name: str) -> Any:
    """A template's macros, as callables returning strings (for documents assembled in parts)."""
    return _environment().get_template(name).module
