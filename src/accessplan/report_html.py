"""The report page: a jinja2 template (autoescaped), its inline style and script, a strict CSP.

The page must open from a file, an e-mail attachment or a CI artifact without
fetching anything, and must not run anything a name in a manifest could smuggle
in. So:

* every value reaches the HTML through jinja2's autoescaping, and the matrix
  data through JSON in a non-executable ``<script type="application/json">``
  block with ``<``, ``>`` and ``&`` escaped; the script builds the matrix with
  ``textContent`` and ``setAttribute`` only, never from HTML strings;
* the Content-Security-Policy allows nothing by default; the one style sheet
  and the one script are allowed by their SHA-256 hashes, so nothing else on
  the page can run or load, and no request can leave it;
* control characters and bidirectional overrides are removed from every string
  (:func:`accessplan.errors.sanitize`), so a name cannot disguise itself.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from accessplan.errors import sanitize

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("accessplan", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["thousands"] = lambda n: f"{n:,}"
    return env.get_template("report.html.j2")


@cache
def _asset(name: str) -> str:
    return (resources.files("accessplan") / "templates" / name).read_text(encoding="utf-8")


def csp_source(text: str) -> str:
    """The CSP source expression that allows exactly this inline text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def script_json(data: Any) -> str:
    """Compact JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    for char, escape in _JSON_ESCAPES.items():
        text = text.replace(char, escape)
    return text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return sanitize(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def render_report_html(report: dict[str, Any]) -> str:
    """The whole page for :func:`accessplan.report.build_report`'s data."""
    report = _clean(report)
    css, js = _asset("report.css"), _asset("report.js")
    csp = (
        f"default-src 'none'; style-src {csp_source(css)}; script-src {csp_source(js)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    return _template().render(r=report, css=Markup(css), js=Markup(js), csp=csp, data=Markup(script_json(report["matrix"])))
