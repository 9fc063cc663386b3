"""A fast first parse for manifests that plainly need none of YAML's corners.

The strict reader (:mod:`accessplan.yamlsafe`) is the reference: it enforces
every hardening rule and knows positions, but builds data from libyaml events in
Python, about 0.5 s per MB. ``yaml-rs`` (Rust) parses the same text ten times
faster, yet differs on a few points: it keeps unknown tags silently, reads
``1_000`` and ``0b101`` as numbers, returns a list for a multi-document file,
and has no depth limit of ours.

So the fast parser is used only for text that :func:`eligible` proves free of
every construct where the two could differ or where hardening matters — tags,
anchors and aliases (so no alias bomb), directives, document markers, numeric
underscores or binary literals. Anything else, and any file the fast parser
rejects or whose data the schema rejects, is read again by the strict reader,
whose verdict and positions are the ones reported. Nesting needs no check of
its own here: the schema is a few levels deep, so data nested deeper than
:data:`yamlsafe.MAX_DEPTH` always fails it and goes to the strict reader, which
refuses it by name (and yaml-rs stops at its own recursion limit first).
``tests/test_fastyaml.py`` checks that both readers give identical data.
"""

from __future__ import annotations

import re
from typing import Any

try:  # an optional accelerator: without it every file takes the strict path
    import yaml_rs
except ImportError:  # pragma: no cover - exercised only where the wheel is missing
    yaml_rs = None

# Constructs where the readers differ are found with plain string operations:
# they run over every file of a manifest, and regular expressions scanning the
# whole text cost several times more.
_BINARY = re.compile(r"0b[01]")
_DIGITS = frozenset("0123456789")


def _number_like(text: str) -> bool:
    """Whether yaml-rs could read a number where YAML 1.2 reads a string (1_000, 0b101).

    Also true of harmless strings such as "fw1_a", which merely take the strict
    path. A digit before an underscore is found by splitting at the underscores.
    """
    if "0b" in text and _BINARY.search(text):
        return True
    return any(part and part[-1] in _DIGITS for part in text.split("_")[:-1])


def _colon_after_flow(text: str) -> bool:
    """Whether a ':' follows, across spaces only, a '[', '{', ',', ']', '}' or another ': '.

    That is a value or a flow item that starts with ':' (``(?:[[{,]|: ) *:``),
    or a flow collection used as a mapping key (``[]}] *:``); each piece of
    the text before a colon is looked at once.
    """
    pieces = text.split(":")
    for i in range(len(pieces) - 1):
        piece = pieces[i]
        kept = piece.rstrip(" ")
        if kept:
            if kept[-1] in "[{,]}":
                return True
        elif piece and i:  # only spaces between two colons: ': ' then ':'
            return True
    return False


# Characters a YAML stream may not contain, and the line breaks only libyaml
# knows (NEL, LS, PS). The strict reader refuses the former with their position;
# yaml-rs accepts some (DEL, C1 controls), and a file it read would fail later,
# when a diagnostic asks the strict reader for positions.
_PRINTABLE_ASCII = bytes([0x09, 0x0A, 0x0D, *range(0x20, 0x7F)])
_NOT_PRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def _printable(text: str) -> bool:
    if text.isascii():  # the usual case: a byte-level check at memory speed
        return not text.encode("ascii").translate(None, _PRINTABLE_ASCII)
    return _NOT_PRINTABLE.search(text) is None


def eligible(text: str) -> bool:
    """True when ``text`` uses only constructs both readers treat alike.

    Substring tests first: they run at memory speed, and a manifest almost never
    contains these characters at all.
    """
    if yaml_rs is None:
        return False
    for marker in ("!", "&", "%", "?", "\t", "\r", "\n---", "\n...", "\x85", "\u2028", "\u2029", "\ufeff"):
        if marker in text:
            # tags, anchors, directives, explicit keys (and '?' in plain scalars,
            # which libyaml refuses in flow context), tabs, other line breaks,
            # document markers
            return False
    if text.startswith(("---", "...")):
        return False
    stars = text.count("*")
    if stars and stars != text.count('"*"') + text.count("'*'"):
        return False  # an alias, or a star inside some other string
    if _number_like(text):
        return False  # 1_000 or 0b101
    if "|" in text or ">" in text:
        # block scalars (the readers chomp a last line without a newline
        # differently) and plain scalars starting with '|' or '>' (yaml-rs
        # accepts them in flow collections, libyaml refuses)
        return False
    if _colon_after_flow(text):
        return False  # a plain scalar starting with ':' (the same disagreement), or a flow collection as a key
    return _printable(text)  # no character YAML forbids


def load(text: str) -> Any | None:
    """The data of ``text``, or ``None`` when the strict reader must decide."""
    if not eligible(text):
        return None
    try:
        data = yaml_rs.loads(text, parse_datetime=False)
    except Exception:  # noqa: BLE001 - any complaint: let the strict reader explain it
        return None
    return data if isinstance(data, dict) else None
