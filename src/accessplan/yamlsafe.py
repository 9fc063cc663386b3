"""Strict, bounded YAML 1.2 reading with source positions.

libyaml (through PyYAML's C parser) turns the text into a stream of events;
this module builds plain Python data from those events itself, with an explicit
stack instead of recursion. Doing the construction here, rather than in a YAML
library's constructor, is what lets one pass enforce every hardening rule of the
manifest format before work grows with the input:

- YAML 1.2 core schema: ``yes``/``on`` stay strings, dates stay strings (the
  model parses them strictly), ``%YAML 1.1`` is refused;
- any tag outside the core schema is refused (YAML libraries keep unknown tags
  silently);
- duplicate keys, non-string keys and multi-document files are refused;
- nesting deeper than :data:`MAX_DEPTH` is refused as soon as it is reached;
- aliases may reach at most :data:`MAX_ALIAS_NODES` nodes in all, so a
  "billion laughs" file is refused after a few microseconds of work.

Positions are recorded only when asked for (``positions=True``): they are
needed only for files that have something to report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 64
MAX_ALIAS_NODES = 100_000

Path = tuple[str | int, ...]
LineCol = tuple[int, int]

_CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "map", "seq")}

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")


class YAMLProblem(Exception):
    """Input that is not acceptable YAML; ``line``/``column`` are 1-based."""

    def __init__(self, message: str, line: int, column: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint


@dataclass(slots=True)
class SourceMap:
    """Where each node of one document stands.

    ``nodes[path]`` is the start of the node at ``path``; ``keys[path]`` the
    start of the mapping key whose value is that node.
    """

    nodes: dict[Path, LineCol] = field(default_factory=dict)
    keys: dict[Path, LineCol] = field(default_factory=dict)


def _plain_scalar(value: str) -> Any:
    """Resolve an untagged plain scalar by the YAML 1.2 core schema."""
    if not value or len(value) > 40:
        return None if not value else value
    c = value[0]
    if c in "~nN" and _NULL.match(value):
        return None
    if c in "tTfF" and value in _BOOL:
        return _BOOL[value]
    if c in "0123456789+-.":
        if _INT10.match(value):
            return int(value)
        if _INT8.match(value):
            return int(value[2:], 8)
        if _INT16.match(value):
            return int(value[2:], 16)
        if _FLOAT.match(value):
            return float(value)
        if _INF.match(value):
            return float("-inf") if value[0] == "-" else float("inf")
        if _NAN.match(value):
            return float("nan")
    return value


def _shown(tag: str) -> str:
    """A tag as it is written in YAML: ``!!python/object``, not its expanded URI."""
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def _tagged_scalar(tag: str, value: str, line: int, col: int) -> Any:
    kind = tag[len(_CORE) :]
    if kind == "str":
        return value
    resolved = _plain_scalar(value)
    expected = {"int": int, "float": (int, float), "bool": bool, "null": type(None)}.get(kind)
    if expected is None or not isinstance(resolved, expected) or (kind == "int" and isinstance(resolved, bool)):
        raise YAMLProblem(f"'{value}' is not a valid !!{kind}", line, col)
    return float(resolved) if kind == "float" else resolved


class _Frame:
    """An open mapping or sequence while its events are read."""

    __slots__ = ("container", "path", "key", "key_mark", "anchor", "count", "depth", "start")

    def __init__(self, container: Any, path: Path, anchor: str | None, depth: int, start: LineCol) -> None:
        self.container = container
        self.path = path
        self.key: Any = _NO_KEY
        self.key_mark: LineCol = start
        self.anchor = anchor
        self.count = 1
        self.depth = depth
        self.start = start


_NO_KEY = object()


def load(text: str, *, positions: bool = False) -> tuple[Any, SourceMap]:
    """Parse one YAML document from ``text``.

    Returns the data (``None`` for an empty document) and its source map
    (empty unless ``positions``). Raises :class:`YAMLProblem`.
    """
    import yaml  # libyaml: imported here, as most runs never take the strict path

    smap = SourceMap()
    loader = yaml.CBaseLoader(text)
    try:
        return _build(loader, smap, positions), smap
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        hint = None
        at = mark.index if mark is not None else -1
        if 0 <= at < len(text) and text[at] == "\t":
            hint = "indent with spaces, not tabs"
        elif "alphabetic or numeric" in problem:
            hint = "'*' and '&' start an alias or an anchor; to mean the character, quote it: \"*\""
        elif "tab" in problem:
            hint = "indent with spaces, not tabs"
        raise YAMLProblem(f"invalid YAML: {problem}", line, col, hint) from None
    except yaml.reader.ReaderError as exc:  # characters YAML does not allow
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise YAMLProblem(
            f"invalid YAML: character U+{exc.character:04X} is not allowed" if isinstance(exc.character, int) else f"invalid YAML: character {exc.character!r} is not allowed", line, col, hint="remove the control character"
        ) from None
    finally:
        loader.dispose()


def _build(loader: Any, smap: SourceMap, positions: bool) -> Any:
    from yaml import events as ev

    get_event = loader.get_event
    anchors: dict[str, tuple[Any, int]] = {}
    open_anchors: set[str] = set()
    alias_nodes = 0
    stack: list[_Frame] = []
    root: Any = None
    documents = 0
    nodes = smap.nodes
    keys = smap.keys

    def attach(value: Any, count: int, line: int, col: int) -> None:
        """Put a finished node into its parent (or make it the root)."""
        nonlocal root
        if not stack:
            root = value
            if positions:
                nodes[()] = (line, col)
            return
        top = stack[-1]
        top.count += count
        container = top.container
        if type(container) is list:
            if positions:
                path = top.path + (len(container),)
                nodes[path] = (line, col)
            container.append(value)
            return
        if top.key is _NO_KEY:
            if type(value) is not str:
                if isinstance(value, (dict, list)):
                    raise YAMLProblem("a mapping key must be a plain string, not a collection", line, col)
                raise YAMLProblem(
                    f"mapping key {value!r} is not a string", line, col, hint="quote the key"
                )
            if value in container:
                raise YAMLProblem(f"duplicate key '{value}'", line, col, hint="each key may appear once in a mapping")
            top.key = value
            top.key_mark = (line, col)
            return
        key = top.key
        container[key] = value
        if positions:
            path = top.path + (key,)
            nodes[path] = (line, col)
            keys[path] = top.key_mark
        top.key = _NO_KEY

    while True:
        event = get_event()
        etype = type(event)
        mark = event.start_mark
        line, col = mark.line + 1, mark.column + 1

        if etype is ev.ScalarEvent:
            tag = event.tag
            value = event.value
            if tag is not None and tag != "!":
                if tag not in _ALLOWED_TAGS:
                    raise YAMLProblem(
                        f"tag '{_shown(tag)}' is not allowed",
                        line,
                        col,
                        hint="manifests use plain YAML 1.2 core types; remove the tag",
                    )
                if tag.endswith(("map", "seq")):
                    raise YAMLProblem(f"tag '{_shown(tag)}' on a scalar", line, col)
                data: Any = _tagged_scalar(tag, value, line, col)
            elif tag is None and event.implicit[0]:
                data = _plain_scalar(value)
            else:
                data = value
            if event.anchor is not None:
                anchors[event.anchor] = (data, 1)
            attach(data, 1, line, col)

        elif etype is ev.MappingStartEvent or etype is ev.SequenceStartEvent:
            tag = event.tag
            is_map = etype is ev.MappingStartEvent
            if tag is not None and tag != "!" and tag != f"{_CORE}{'map' if is_map else 'seq'}":
                raise YAMLProblem(
                    f"tag '{_shown(tag)}' is not allowed",
                    line,
                    col,
                    hint="manifests use plain YAML 1.2 core types; remove the tag",
                )
            depth = (stack[-1].depth if stack else 0) + 1
            if depth > MAX_DEPTH:
                raise YAMLProblem(
                    f"nesting deeper than {MAX_DEPTH} levels",
                    line,
                    col,
                    hint="a manifest needs only a few levels; flatten the structure",
                )
            if stack and type(stack[-1].container) is dict and stack[-1].key is _NO_KEY:
                raise YAMLProblem("a mapping key must be a plain string, not a collection", line, col)
            if stack:
                parent = stack[-1]
                if type(parent.container) is list:
                    path = parent.path + (len(parent.container),)
                else:
                    path = parent.path + (parent.key,)
            else:
                path = ()
            frame = _Frame({} if is_map else [], path, event.anchor, depth, (line, col))
            if event.anchor is not None:
                open_anchors.add(event.anchor)
            stack.append(frame)

        elif etype is ev.MappingEndEvent or etype is ev.SequenceEndEvent:
            frame = stack.pop()
            sline, scol = frame.start
            if frame.anchor is not None:
                anchors[frame.anchor] = (frame.container, frame.count)
                open_anchors.discard(frame.anchor)
            attach(frame.container, frame.count, sline, scol)

        elif etype is ev.AliasEvent:
            name = event.anchor
            if name in open_anchors:
                raise YAMLProblem(f"alias '*{name}' refers to a node that contains it", line, col)
            if name not in anchors:
                raise YAMLProblem(f"alias '*{name}' has no anchor before it", line, col)
            data, count = anchors[name]
            alias_nodes += count
            if alias_nodes > MAX_ALIAS_NODES:
                raise YAMLProblem(
                    f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes",
                    line,
                    col,
                    hint="this looks like an alias bomb; write the data out instead",
                )
            attach(data, count, line, col)

        elif etype is ev.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise YAMLProblem(
                    "more than one YAML document in one file",
                    line,
                    col,
                    hint="put each document in its own file",
                )
            version = event.version
            if version is not None and tuple(version) != (1, 2):
                raise YAMLProblem(
                    f"%YAML {version[0]}.{version[1]} is not supported",
                    line,
                    col,
                    hint="manifests are YAML 1.2; remove the %YAML directive",
                )

        elif etype is ev.StreamEndEvent:
            return root

