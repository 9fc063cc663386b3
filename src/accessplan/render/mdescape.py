"""Escaping user-supplied strings for a Markdown pull-request comment.

A customer name, a group name or a label reaches the comment of every pull
request that touches it, and whoever wrote the manifest is not necessarily
whoever reads the comment. So each string is made inert, whatever it holds:

* control characters, escape sequences and bidi overrides are removed
  (:func:`accessplan.errors.sanitize`), line breaks become spaces — a string
  cannot start a new block (a heading, a list, a code fence);
* every character that starts HTML or Markdown syntax inside a line — ``&``
  and ``<`` (tags, entities, comments, autolinks), code and fences (`````,
  ``~``), emphasis (``* _``), links and images (``[ ]``), tables (``|``),
  escapes (``\\``), references (``#``), math (``$``), mentions (``@``) — is
  written as a numeric character reference, which GitHub shows as the
  character and never interprets. (``>``, quotes and parentheses mean nothing
  once ``<`` and ``[`` are inert, and no user string starts a line, so they
  stay readable.);
* GitHub links ``@name``, ``@org/team`` and ``#123`` after HTML is decoded, so
  an ``@`` or ``#`` that could start a mention or a reference (at the start,
  or after anything but a letter or digit) is also followed by a WORD JOINER
  (U+2060): it looks the same and notifies no one. Emails keep their ``@``
  readable and unbroken.
"""

from __future__ import annotations

import re

from accessplan.errors import sanitize

_ENTITIES = {c: f"&#{ord(c)};" for c in "&<`~*_[]|\\#$@"}
_TABLE = str.maketrans(_ENTITIES)
_BREAKS = re.compile(r"[\t\n\r\u2028\u2029\x85\x0b\x0c]+")
_TRIGGER = re.compile(r"(?<![A-Za-z0-9])([@#])")
WORD_JOINER = "\u2060"


def md(value: object) -> str:
    """``value`` as inert text for Markdown and for HTML inside it."""
    text = _BREAKS.sub(" ", sanitize(str(value)))
    text = _TRIGGER.sub(lambda m: m.group(1) + WORD_JOINER, text)
    return text.translate(_TABLE)


def size(text: str) -> int:
    """Length as GitHub counts it (UTF-16 code units), for the comment size limit."""
    return len(text.encode("utf-16-le")) // 2
