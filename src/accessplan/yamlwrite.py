"""Writing manifests: plain data as YAML that accessplan's strict reader reads back unchanged.

``accessplan export`` must produce a manifest that loads to exactly the data it
was made from, whatever a name holds. A general YAML library would pick styles
for us (and PyYAML writes YAML 1.1); this writer is small and chooses only two:
plain scalars for the unmistakable (``alice@acme.example``, ``Tier 1 Analyst``)
and double quotes for everything else — anything that YAML 1.2 or 1.1 could
read as a boolean, null, number or date, anything with YAML syntax in it, and
anything with a character that is not printable (escaped as ``\\uXXXX``).

Layout follows the examples: block mappings, lists of scalars in flow style
(``[a, b]``) when they fit on a line, lists of mappings as block items.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@/+-]*(?<! )$")
_LOOKS_TYPED = re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?"  # numbers
    r"|0[xXoObB][0-9a-fA-F_]+"  # other bases
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*"  # dates and times
    r"|[0-9]+(?::[0-9]{1,2})+(?:\.[0-9]*)?"  # sexagesimal (YAML 1.1)
    r")$"
)
_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "nan", "inf"})
_FLOW_WIDTH = 88


def scalar(value: Any) -> str:
    """One scalar as YAML text."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _WORDS and not _LOOKS_TYPED.match(text):
        return text
    return quote(text)


def quote(text: str) -> str:
    """A double-quoted YAML scalar; non-printable characters escaped."""
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch.isprintable() and ch not in "\u2028\u2029\ufeff":
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, bool))


def dump(data: Mapping[str, Any]) -> str:
    """A mapping as a YAML document (no header), newline-terminated."""
    lines: list[str] = []
    _mapping(data, 0, lines)
    return "\n".join(lines) + "\n"


def _mapping(data: Mapping[str, Any], indent: int, lines: list[str], first_prefix: str | None = None) -> None:
    pad = " " * indent
    for i, (key, value) in enumerate(data.items()):
        head = (first_prefix if i == 0 and first_prefix is not None else pad) + scalar(key) + ":"
        _value(head, value, indent, lines)


def _value(head: str, value: Any, indent: int, lines: list[str]) -> None:
    if _is_scalar(value):
        lines.append(f"{head} {scalar(value)}")
    elif isinstance(value, Mapping):
        if not value:
            lines.append(f"{head} {{}}")
        else:
            lines.append(head)
            _mapping(value, indent + 2, lines)
    else:
        _sequence(head, list(value), indent, lines)


def _sequence(head: str, items: Sequence[Any], indent: int, lines: list[str]) -> None:
    if all(_is_scalar(v) for v in items):
        flow = "[" + ", ".join(scalar(v) for v in items) + "]"
        if len(head) + 1 + len(flow) <= _FLOW_WIDTH or not items:
            lines.append(f"{head} {flow}")
            return
        lines.append(head)
        lines.extend(f"{' ' * (indent + 2)}- {scalar(v)}" for v in items)
        return
    lines.append(head)
    pad = " " * (indent + 2)
    for item in items:
        if isinstance(item, Mapping) and item:
            _mapping(item, indent + 4, lines, first_prefix=pad + "- ")
        elif _is_scalar(item):
            lines.append(f"{pad}- {scalar(item)}")
        else:
            raise TypeError(f"cannot write {type(item).__name__} inside a list")
