"""The layout engine behind ``accessplan fmt``: YAML text in, canonical text out.

Why not a YAML library's round-trip dumper? ruamel attaches a comment to the
key *before* it, so reordering keys carries comments to the wrong place, and
its dumper re-quotes and re-wraps values. Here the text is read once with
libyaml's event parser (the same one :mod:`accessplan.yamlsafe` uses), which
gives every node's exact source span; comments are found in the text between
those spans. The output is then written line by line:

* mapping keys in the order :class:`Shape` gives (unknown keys after, as found);
* two spaces per level, sequences indented under their key (``key:`` then
  ``  - item``), as in the SPEC's example;
* every scalar exactly as written (quotes, block scalars, anchors kept);
  single-line flow collections re-spaced (``[a, b]``, ``{k: v}``);
* a full-line comment (or blank line) belongs to the entry that follows it and
  moves with it; a comment at the end of a line stays after the value it
  follows; the comments before the first key stay at the top of the file;
  runs of blank lines become one, and no block starts with one.

:mod:`accessplan.fmt` checks every result by parsing it again, so a mistake
here can only ever refuse to format a file, never change what it means.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml import events as ev

BLANK = ""  # a blank line among the comment lines before an entry


@dataclass(slots=True)
class Shape:
    """The canonical key order of one kind of mapping, and the shapes below it.

    ``order`` None keeps the keys as written (user-chosen keys such as labels).
    """

    order: tuple[str, ...] | None = None
    children: dict[str, Shape] = field(default_factory=dict)
    items: Shape | None = None  # the shape of a sequence's items

    def child(self, key: str) -> Shape | None:
        return self.children.get(key)


class LayoutError(Exception):
    """Text this engine will not lay out (the caller leaves the file alone)."""


@dataclass(slots=True, eq=False)
class Node:
    """A node of the document, with the character span of its source text."""

    kind: str  # "scalar" | "alias" | "map" | "seq"
    start: int
    end: int
    line: int  # 0-based line of ``start``
    flow: bool = False
    style: str = ""  # a scalar's style: "", "'", '"', "|", ">"
    empty: bool = False  # a plain scalar with no text at all (an implicit null)
    props: str = ""  # anchor and tag of a block collection
    entries: list[Entry] = field(default_factory=list)
    eol: tuple[int, str] | None = None  # (original column, text) of a comment ending its last line


@dataclass(slots=True, eq=False)
class Entry:
    """A mapping entry (``key`` set) or a sequence item, with the comments before it."""

    key: Node | None
    value: Node | None
    line: int  # where the entry starts: its key, or its item's dash
    base: int  # column of the key, or of the dash
    name: str = ""  # the key as text, quotes removed (for ordering)
    lead: list[tuple[int, str]] = field(default_factory=list)  # (line, comment text or BLANK)


@dataclass(slots=True)
class Document:
    root: Node | None
    prefix: list[tuple[int, str]]  # directives and an explicit '---', by line
    prefix_line: int  # the line of '---' (-1 without one)
    header: list[tuple[int, str]]
    trailer: list[tuple[int, str]]
    comments: list[str]  # every comment's text, in order: what formatting must keep


class _Reader:
    """libyaml events -> a tree of :class:`Node`, plus every atom and block entry in document order."""

    def __init__(self, text: str) -> None:
        self.text = text
        # Lines are counted here, by '\n' only: libyaml also breaks lines at
        # U+2028/U+2029 (YAML 1.1), which YAML 1.2 and this module do not.
        self.line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        self.loader = yaml.CBaseLoader(text)
        self.atoms: list[Node] = []  # scalars and aliases in block context, flow collections
        self.entries: list[Entry] = []  # entries of block collections
        self.flow_depth = 0

    def read(self) -> tuple[Node | None, list[tuple[int, str]], int]:
        try:
            root: Node | None = None
            prefix: list[tuple[int, str]] = []
            prefix_line = -1
            while True:
                event = self.loader.get_event()
                if isinstance(event, ev.DocumentStartEvent):
                    if event.explicit:
                        prefix_line = self._line(event.end_mark.index)
                        lines = self.text.split("\n")
                        prefix = [(i, ln.rstrip()) for i, ln in enumerate(lines[:prefix_line]) if ln.startswith("%")]
                        prefix.append((prefix_line, "---"))
                    root = self.node(self.loader.get_event())
                elif isinstance(event, ev.StreamEndEvent):
                    return root, prefix, prefix_line
        except yaml.YAMLError as exc:  # the strict reader accepted it: should not happen
            raise LayoutError(str(exc)) from None
        finally:
            self.loader.dispose()

    def node(self, event: Any) -> Node:
        start = event.start_mark
        if isinstance(event, (ev.ScalarEvent, ev.AliasEvent)):
            scalar = isinstance(event, ev.ScalarEvent)
            node = Node("scalar" if scalar else "alias", start.index, event.end_mark.index, self._line(start.index))
            if scalar:
                node.style = event.style or ""
                node.empty = node.start == node.end and not node.style
                if node.style in ("|", ">"):
                    self._trim_block_scalar(node)
            if not self.flow_depth and not node.empty:
                self.atoms.append(node)
            return node
        is_map = isinstance(event, ev.MappingStartEvent)
        if not is_map and not isinstance(event, ev.SequenceStartEvent):
            raise LayoutError(f"unexpected {type(event).__name__}")
        node = Node("map" if is_map else "seq", start.index, 0, self._line(start.index), flow=bool(event.flow_style))
        if not node.flow:
            node.props = " ".join(p for p in (_anchor(event.anchor), _tag(event.tag)) if p)
        else:
            self.flow_depth += 1
        while True:
            child = self.loader.get_event()
            if isinstance(child, (ev.MappingEndEvent, ev.SequenceEndEvent)):
                node.end = child.end_mark.index
                break
            if is_map:
                key = self.node(child)
                entry = Entry(key, None, key.line, self._column(key.start), _plain_key(self.text[key.start : key.end]))
                self._register(entry, node)
                entry.value = self.node(self.loader.get_event())
            else:
                dash = self._dash(child.start_mark.index) if not node.flow else child.start_mark.index
                entry = Entry(None, None, self._line(dash), self._column(dash))
                self._register(entry, node)
                entry.value = self.node(child)
            node.entries.append(entry)
        if node.flow:
            self.flow_depth -= 1
            if not self.flow_depth:
                self.atoms.append(node)
        return node

    def _register(self, entry: Entry, parent: Node) -> None:
        if not parent.flow:
            self.entries.append(entry)

    def _dash(self, item_start: int) -> int:
        """The '-' of a block sequence item: the last thing before the item, comments and blanks aside."""
        end = item_start
        while True:
            line_start = self.text.rfind("\n", 0, end) + 1
            segment = _drop_comment(self.text[line_start:end]).rstrip()
            if segment:
                if not segment.endswith("-"):
                    raise LayoutError("a sequence item without its dash")
                return line_start + len(segment) - 1
            if line_start == 0:
                raise LayoutError("a sequence item without its dash")
            end = line_start - 1

    def _line(self, index: int) -> int:
        return bisect.bisect_right(self.line_starts, index) - 1

    def _column(self, index: int) -> int:
        return index - self.line_starts[self._line(index)]

    def _trim_block_scalar(self, node: Node) -> None:
        """End a block scalar after its last content line, unless it keeps trailing lines (``|+``).

        The blank lines after it are then seen as blank lines between entries.
        """
        if "+" in _indicators(self.text[node.start : self.text.find("\n", node.start)]):
            return
        body = self.text[node.start : node.end]
        stripped = body.rstrip(" \t\n")
        cut = body.find("\n", len(stripped))
        if cut >= 0:
            node.end = node.start + cut + 1


def _indicators(header: str) -> str:
    """A block scalar header's chomping and indentation indicators (``|+2`` -> ``+2``).

    The style character is the last ``|`` or ``>`` before any comment: an
    anchor or a tag may come before it.
    """
    header = _drop_comment(header)
    return header[max(header.rfind("|"), header.rfind(">")) + 1 :].strip()


def _drop_comment(segment: str) -> str:
    for i, ch in enumerate(segment):
        if ch == "#" and (i == 0 or segment[i - 1] in " \t"):
            return segment[:i]
    return segment


def _anchor(anchor: str | None) -> str:
    return f"&{anchor}" if anchor else ""


def _tag(tag: str | None) -> str:
    if not tag or tag == "!":
        return tag or ""
    core = "tag:yaml.org,2002:"
    return "!!" + tag[len(core) :] if tag.startswith(core) else f"!<{tag}>"


def parse(text: str) -> Document:
    """Read ``text`` (already accepted by the strict reader) into a :class:`Document`."""
    reader = _Reader(text)
    root, prefix, prefix_line = reader.read()
    comments: list[str] = []
    header, trailer = _attach_comments(text, reader.atoms, reader.entries, comments)
    return Document(root, prefix, prefix_line, header, trailer, comments)


def _attach_comments(
    text: str, atoms: list[Node], entries: list[Entry], comments: list[str]
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Give each comment and blank line its owner; return the file's header and trailer."""
    starts = [a.start for a in atoms]
    ends = [a.end for a in atoms]
    entry_lines = [e.line for e in entries]
    trailer: list[tuple[int, str]] = []
    offset = 0
    for number, line in enumerate(text.split("\n")):
        line_start, line_end = offset, offset + len(line)
        offset = line_end + 1
        found = _comment_in(text, line_start, line_end, starts, ends)
        if found is None:
            continue
        kind, at = found
        if kind != "blank":
            comments.append(text[at:line_end].rstrip())
        if kind == "eol":
            i = bisect.bisect_right(ends, at) - 1
            if i >= 0 and ends[i] > line_start:
                atoms[i].eol = (at - line_start, text[at:line_end].rstrip())
                continue
            kind = "full"  # after a dash or a collection's anchor only: keep it before the next entry
        item = (number, BLANK if kind == "blank" else text[at:line_end].rstrip())
        j = bisect.bisect_right(entry_lines, number)
        (entries[j].lead if j < len(entries) else trailer).append(item)
    header: list[tuple[int, str]] = []
    if entries:
        header, entries[0].lead = entries[0].lead, []
    elif atoms:  # a document that is one scalar or flow collection: comments before it stay before it
        first = atoms[0].line
        header = [t for t in trailer if t[0] < first]
        trailer = [t for t in trailer if t[0] >= first]
    return header, trailer


def _comment_in(text: str, line_start: int, line_end: int, starts: list[int], ends: list[int]) -> tuple[str, int] | None:
    """``("blank"|"full"|"eol", offset)`` for a line outside every atom, else None."""
    i = bisect.bisect_right(starts, line_start) - 1
    pos = line_start
    if i >= 0 and ends[i] > pos:
        pos = ends[i]  # the line begins inside a multi-line atom
    if pos >= line_end and pos > line_start:
        return None
    only_space = pos == line_start
    i = bisect.bisect_left(starts, pos)
    while pos < line_end:
        if i < len(starts) and starts[i] == pos:
            pos = max(ends[i], pos + 1)
            only_space = False
            i += 1
            continue
        ch = text[pos]
        if ch == "#" and (pos == line_start or text[pos - 1] in " \t"):
            return ("full" if only_space else "eol"), pos
        if ch not in " \t":
            only_space = False
        pos += 1
    if only_space and not text[line_start:line_end].strip():
        return "blank", line_start
    return None


# --- writing ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Hoist:
    """Comment lines to write above a sequence item's dash, at the dash's indentation."""

    indent: int
    lines: list[str] = field(default_factory=list)


class _Writer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[str] = []

    def src(self, node: Node) -> str:
        return self.text[node.start : node.end]

    def lead(self, items: list[tuple[int, str]], indent: int, first: bool, into: list[str] | None = None) -> None:
        target = self.out if into is None else into
        for _, item in _tidy(items, drop_leading_blank=first):
            target.append(" " * indent + item if item else "")

    def with_eol(self, line: str, eol: tuple[int, str] | None) -> str:
        if eol is None:
            return line
        column, comment = eol
        return line + " " * max(column - len(line), 1) + comment

    def block(self, node: Node, indent: int, shape: Shape | None, hoist: _Hoist | None = None) -> None:
        """A block collection at ``indent``; ``hoist`` collects what must go before an item's dash.

        ``- key: v`` and ``- - x`` put a nested collection's first line on the
        dash's line: comments before that first entry go above the dash instead.
        """
        entries = node.entries if node.kind == "seq" else ordered(node.entries, shape)
        for i, entry in enumerate(entries):
            if i == 0 and hoist is not None:
                self.lead(entry.lead, hoist.indent, first=True, into=hoist.lines)
            else:
                self.lead(entry.lead, indent, first=i == 0)
            if node.kind == "map":
                self.map_entry(entry, indent, shape)
            else:
                self.seq_item(entry, indent, shape.items if shape else None, hoist if i == 0 else None)

    def map_entry(self, entry: Entry, indent: int, shape: Shape | None) -> None:
        assert entry.key is not None and entry.value is not None
        key, value = entry.key, entry.value
        key_text = self.src(key)
        if "\n" in key_text:
            raise LayoutError("a key written over several lines")
        child = shape.child(entry.name) if shape else None
        line = " " * indent + key_text + ":"
        if _is_block(value):
            line += f" {value.props}" if value.props else ""
            self.out.append(self.with_eol(line, key.eol))
            self.block(value, indent + 2, child)
            return
        if value.empty:
            self.out.append(self.with_eol(line, value.eol or key.eol))
            return
        self.atom(line + " ", value, entry.base, indent, child)

    def seq_item(self, entry: Entry, indent: int, shape: Shape | None, hoist: _Hoist | None = None) -> None:
        value = entry.value
        assert value is not None
        dash = " " * indent + "-"
        if _is_block(value):
            if value.props:
                self.out.append(f"{dash} {value.props}")
                self.block(value, indent + 2, shape)
                return
            own = hoist or _Hoist(indent)  # an enclosing item's dash shares this line: hoist to it
            mark = len(self.out)
            self.block(value, indent + 2, shape, hoist=own)
            self.out[mark] = dash + " " + self.out[mark][indent + 2 :]
            if hoist is None:
                self.out[mark:mark] = own.lines
            return
        if value.empty:
            self.out.append(self.with_eol(dash, value.eol))
            return
        self.atom(dash + " ", value, entry.base, indent, shape)

    def atom(self, prefix: str, node: Node, old_base: int, new_base: int, shape: Shape | None) -> None:
        text = flow_text(self.text, node, shape) if node.kind in ("map", "seq") else None
        lines = (text if text is not None else self.src(node)).split("\n")
        if len(lines) > 1 and lines[-1] == "" and node.style in ("|", ">"):
            lines.pop()  # a block scalar's span ends with its line break
        delta = new_base - old_base
        body = [ln for ln in lines[1:] if ln.strip()]
        if node.style in ("|", ">") and body and not any(ch.isdigit() for ch in _indicators(lines[0])):
            # Without an indentation indicator, the first content line sets the
            # indentation: put the content two spaces in from its key or dash.
            delta = new_base + 2 - min(len(ln) - len(ln.lstrip(" ")) for ln in body)
        shifted = [prefix + lines[0]] + [_shift(ln, delta) for ln in lines[1:]]
        shifted[-1] = self.with_eol(shifted[-1], node.eol)
        self.out.extend(shifted)


def _is_block(node: Node) -> bool:
    return node.kind in ("map", "seq") and not node.flow and bool(node.entries)


def _plain_key(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _shift(line: str, delta: int) -> str:
    if not line or delta == 0:
        return line
    if delta > 0:
        return " " * delta + line
    spaces = len(line) - len(line.lstrip(" "))
    return line[min(spaces, -delta) :]


def _tidy(items: list[tuple[int, str]], *, drop_leading_blank: bool) -> list[tuple[int, str]]:
    """Runs of blank lines become one; a block does not start with one."""
    out: list[tuple[int, str]] = []
    for item in items:
        if item[1] == BLANK and (out[-1][1] == BLANK if out else drop_leading_blank):
            continue
        out.append(item)
    return out


def ordered(entries: list[Entry], shape: Shape | None) -> list[Entry]:
    """Entries in the shape's key order; unknown keys after the known ones, as found."""
    if shape is None or shape.order is None:
        return entries
    rank = {k: i for i, k in enumerate(shape.order)}
    last = len(rank)
    return [e for _, _, e in sorted((rank.get(e.name, last), i, e) for i, e in enumerate(entries))]


def flow_text(text: str, node: Node, shape: Shape | None) -> str | None:
    """A single-line flow collection re-spaced (keys in shape order); None keeps it as written."""
    source = text[node.start : node.end]
    if node.kind in ("scalar", "alias"):
        return None if "\n" in source else source
    if "\n" in source:
        return None
    props = ""
    if source[:1] in ("&", "!"):  # an anchor or a tag before the bracket
        bracket = min((i for i in (source.find("["), source.find("{")) if i >= 0), default=0)
        props = source[:bracket].strip()
    parts: list[str] = []
    if node.kind == "map":
        for entry in ordered(node.entries, shape):
            assert entry.key is not None and entry.value is not None
            key = flow_text(text, entry.key, None)
            child = shape.child(entry.name) if shape else None
            value = "" if entry.value.empty else flow_text(text, entry.value, child)
            if key is None or value is None:
                return None
            parts.append(f"{key}: {value}" if value else key)
        body = "{" + ", ".join(parts) + "}"
    else:
        for entry in node.entries:
            assert entry.value is not None
            item = flow_text(text, entry.value, shape.items if shape else None)
            if item is None:
                return None
            parts.append(item)
        body = "[" + ", ".join(parts) + "]"
    return f"{props} {body}" if props else body


def render(text: str, doc: Document, shape: Shape | None) -> str:
    """The canonical text of a parsed document."""
    w = _Writer(text)
    before = sorted([item for item in doc.header if item[0] < doc.prefix_line] + doc.prefix)
    after = [item for item in doc.header if item[0] >= doc.prefix_line]
    w.lead(before, 0, first=True)
    w.lead(after, 0, first=not before)
    root = doc.root
    if root is not None and _is_block(root):
        w.block(root, 0, shape if root.kind == "map" else (shape.items if shape else None))
    elif root is not None and not root.empty:
        w.atom("", root, 0, 0, shape)
    w.lead(doc.trailer, 0, first=False)
    while w.out and not w.out[-1].strip():
        w.out.pop()
    return "\n".join(w.out) + "\n"
