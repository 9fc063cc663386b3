"""Manifest files in, one :class:`Manifest` out, with a position for everything.

A manifest is one YAML file or a directory of them. Each file is read with the
hardening of :mod:`accessplan.yamlsafe`, checked against
:class:`~accessplan.model.ManifestFile` on its own (so positions map straight
into that file), and then the files are combined. Every problem of every file is
collected before anything fails.

Positions are computed lazily: the fast parse keeps none, and a file is parsed
a second time, with positions, only when something in it has to be reported.
"""

from __future__ import annotations

import gc
import os
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from accessplan import fastyaml, yamlsafe
from accessplan.errors import Diagnostic, ManifestError, Position
from accessplan.model import (
    AccessTest,
    Customer,
    CustomRole,
    Grant,
    ManifestFile,
    Partner,
    Policy,
    did_you_mean,
)

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
YamlPath = yamlsafe.Path


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause cyclic garbage collection while building large acyclic data.

    Loading creates hundreds of thousands of containers and no cycles; the
    collector would rescan them again and again for nothing.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(slots=True)
class SourceFile:
    """One manifest file: its name as shown to the user, and its text."""

    name: str
    text: str
    _smap: yamlsafe.SourceMap | None = None

    def smap(self) -> yamlsafe.SourceMap:
        if self._smap is None:
            try:
                _, self._smap = yamlsafe.load(self.text, positions=True)
            except yamlsafe.YAMLProblem as exc:
                # The fast reader accepted what the strict one refuses (fastyaml
                # excludes every difference known, but not all can be): the
                # strict reader's verdict stands, reported when it is first asked.
                where = Position(self.name, exc.line, exc.column)
                raise ManifestError([Diagnostic("error", where, exc.message, exc.hint, "yaml")]) from None
        return self._smap

    def position(self, path: YamlPath, *, key: bool = False) -> Position:
        """Where ``path`` stands; its nearest existing ancestor if it is absent."""
        smap = self.smap()
        if key and path in smap.keys:
            line, col = smap.keys[path]
            return Position(self.name, line, col)
        while path and path not in smap.nodes:
            path = path[:-1]
        line, col = smap.nodes.get(path, (1, 1))
        return Position(self.name, line, col)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a manifest object was declared: its file and its path in it."""

    file: SourceFile
    path: YamlPath

    def at(self, *sub: str | int, key: bool = False) -> Position:
        return self.file.position(self.path + sub, key=key)


@dataclass(slots=True)
class Manifest:
    """All files of one manifest, combined; origins keyed by object identity."""

    root: str
    files: list[SourceFile]
    partner: Partner
    policy: Policy | None = None
    roles: list[CustomRole] = field(default_factory=list)
    customers: list[Customer] = field(default_factory=list)
    grants: list[Grant] = field(default_factory=list)
    tests: list[AccessTest] = field(default_factory=list)
    origins: dict[int, Origin] = field(default_factory=dict)

    def origin(self, obj: object) -> Origin:
        return self.origins[id(obj)]

    def where(self, obj: object, *sub: str | int, key: bool = False) -> Position:
        """Position of ``obj`` (or of ``sub`` inside it) in its file."""
        return self.origins[id(obj)].at(*sub, key=key)


def display_name(path: Path) -> str:
    """A path as the user will recognise it: relative to the working directory."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def discover(root: Path) -> list[Path]:
    """Manifest files under ``root``: sorted, dot-entries and symlinks skipped."""
    return [Path(full) for _, full in _files(root, display_name(root))]


def _files(root: Path, name: str) -> list[tuple[str, str]]:
    """``(relative posix path, path)`` of the manifest at ``root``: the file itself (relative path ""), or a directory's files."""
    if root.is_file():
        return [("", os.fspath(root))]
    return _manifest_files(os.fspath(root), name)


def _manifest_files(root: str, name: str) -> list[tuple[str, str]]:
    """``(relative posix path, path)`` of every manifest file under the directory ``root``, sorted.

    One ``scandir`` per directory: its entries know whether they are links or
    regular files without a ``stat`` each (a large MSSP has thousands of files).
    A directory that cannot be read is an error (shown as ``name``/...), never
    silently skipped: its files would look deleted to the plan.
    """
    found: list[tuple[str, str]] = []
    pending = [("", root)]
    while pending:
        rel_dir, directory = pending.pop()
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    entry_name = entry.name
                    if entry_name.startswith(".") or entry.is_symlink():
                        continue
                    rel = f"{rel_dir}{entry_name}"
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((rel + "/", entry.path))
                    elif entry_name.endswith((".yaml", ".yml")) and entry.is_file(follow_symlinks=False):
                        found.append((rel, entry.path))  # a FIFO or a device would block or never end
        except OSError as exc:
            shown = _shown(name, rel_dir.rstrip("/")) if rel_dir else name
            raise ManifestError(
                [Diagnostic("error", Position(shown), f"cannot read the directory: {exc.strerror or exc}", "check the directory's permissions", "file")]
            ) from None
    found.sort()
    return found


def _shown(name: str, rel: str) -> str:
    """How a path inside the manifest ``name`` is shown: relative to where the user stands."""
    return rel if name == "." else f"{name.rstrip('/')}/{rel}"


def read_text(path: str | Path, name: str, max_bytes: int) -> str:
    """The file's text; a :class:`ManifestError` for anything that is not UTF-8 YAML text."""

    def fail(message: str, hint: str, line: int = 0, col: int = 0) -> ManifestError:
        return ManifestError([Diagnostic("error", Position(name, line, col), message, hint, "file")])

    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > max_bytes:
                raise fail(
                    f"file is {size:,} bytes, over the limit of {max_bytes:,}",
                    "split the manifest into several files, or raise the limit with --max-bytes",
                )
            raw = fh.read(max_bytes + 1)
    except OSError as exc:
        raise fail(f"cannot read the file: {exc.strerror or exc}", "check the file's permissions") from None
    if b"\x00" in raw:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise fail("file is not UTF-8 (it looks like UTF-16)", "save the file as UTF-8")
        raise fail("file is binary, not a YAML manifest", "give a YAML text file")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise fail("file is not valid UTF-8", "save the file as UTF-8", line, col) from None
    if not text.strip():
        raise fail("file is empty", "remove it, or write a manifest into it, starting with 'version: 1'", 1, 1)
    return text


def load_manifest(path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Manifest:
    """Read, check and combine the manifest at ``path``; raise with every problem."""
    root = Path(path)
    name = display_name(root)
    if not root.exists():
        raise ManifestError([Diagnostic("error", Position(name), "no such file or directory", "check the path", "file")])
    paths = _files(root, name)
    if not paths:
        raise ManifestError(
            [Diagnostic("error", Position(name), "no manifest files (*.yaml, *.yml) found", "give a directory holding the manifest", "file")]
        )
    diagnostics: list[Diagnostic] = []
    parsed: list[tuple[SourceFile, ManifestFile]] = []
    with no_gc():
        for rel, p in paths:
            shown = _shown(name, rel) if rel else name
            result = _load_file(p, shown, max_bytes, diagnostics)
            if result is not None:
                parsed.append(result)
    manifest = _combine(name, parsed, diagnostics)
    if any(d.severity == "error" for d in diagnostics) or manifest is None:
        raise ManifestError(diagnostics)
    return manifest


def _load_file(path: str, name: str, max_bytes: int, diagnostics: list[Diagnostic]) -> tuple[SourceFile, ManifestFile] | None:
    try:
        text = read_text(path, name, max_bytes)
    except ManifestError as exc:
        diagnostics.extend(exc.diagnostics)
        return None
    fast = fastyaml.load(text)
    if fast is not None:
        try:
            return SourceFile(name, text), ManifestFile.model_validate(fast)
        except ValidationError:
            pass  # the strict reader decides, and knows the positions
    try:
        data, _ = yamlsafe.load(text)
    except ManifestError as exc:
        diagnostics.extend(exc.diagnostics)
        return None
    except yamlsafe.YAMLProblem as exc:
        diagnostics.append(Diagnostic("error", Position(name, exc.line, exc.column), exc.message, exc.hint, "yaml"))
        return None
    source = SourceFile(name, text)
    if data is None:
        diagnostics.append(Diagnostic("error", Position(name, 1, 1), "file holds no data", "write a manifest mapping, starting with 'version: 1'", "file"))
        return None
    if not isinstance(data, dict):
        diagnostics.append(
            Diagnostic("error", source.position(()), "the top level of a manifest must be a mapping", "start with 'version: 1'", "schema")
        )
        return None
    try:
        return source, ManifestFile.model_validate(data)
    except ValidationError as exc:
        diagnostics.extend(schema_diagnostics(source, data, exc))
        return None


def _combine(name: str, parsed: list[tuple[SourceFile, ManifestFile]], diagnostics: list[Diagnostic]) -> Manifest | None:
    partner: tuple[SourceFile, Partner] | None = None
    policy: tuple[SourceFile, Policy] | None = None
    files = [source for source, _ in parsed]
    manifest_parts: dict[str, list[Any]] = {"roles": [], "customers": [], "grants": [], "tests": []}
    origins: dict[int, Origin] = {}
    for source, doc in parsed:
        if doc.partner is not None:
            if partner is not None:
                diagnostics.append(_twice(source, "partner", partner[0]))
            else:
                partner = (source, doc.partner)
                if doc.version is None:
                    diagnostics.append(
                        Diagnostic("error", source.position(()), "missing required key 'version'", "add 'version: 1' to the file holding 'partner'", "schema")
                    )
            origins[id(doc.partner)] = Origin(source, ("partner",))
        if doc.policy is not None:
            if policy is not None:
                diagnostics.append(_twice(source, "policy", policy[0]))
            else:
                policy = (source, doc.policy)
            origins[id(doc.policy)] = Origin(source, ("policy",))
        for key, items in manifest_parts.items():
            for i, item in enumerate(getattr(doc, key)):
                items.append(item)
                origins[id(item)] = Origin(source, (key, i))
    if partner is None:
        where = Position(files[0].name, 1, 1) if len(files) == 1 else Position(name)
        if not any(d.severity == "error" for d in diagnostics):
            diagnostics.append(
                Diagnostic("error", where, "no 'partner' in the manifest", "declare the partner (the MSSP's own account) exactly once", "schema")
            )
        return None
    manifest = Manifest(
        root=name,
        files=files,
        partner=partner[1],
        policy=policy[1] if policy else None,
        origins=origins,
        **manifest_parts,
    )
    _register_children(manifest)
    return manifest


def _twice(source: SourceFile, key: str, earlier: SourceFile) -> Diagnostic:
    first = earlier.position((key,), key=True)
    return Diagnostic(
        "error",
        source.position((key,), key=True),
        f"'{key}' is declared twice (first at {first.short})",
        f"declare '{key}' in one file only",
        "schema",
    )


def _register_children(manifest: Manifest) -> None:
    """Give every nested object that diagnostics name its own origin."""
    origins = manifest.origins
    accounts: list[Partner | Customer] = [manifest.partner, *manifest.customers]
    for account in accounts:
        base = origins[id(account)]
        for attr in ("users", "groups", "log_sets"):
            for i, obj in enumerate(getattr(account, attr)):
                origins[id(obj)] = Origin(base.file, base.path + (attr, i))
        if isinstance(account, Customer):
            for i, lic in enumerate(account.poc_licenses):
                origins[id(lic)] = Origin(base.file, base.path + ("poc_licenses", i))
            if account.poc is not None:
                origins[id(account.poc)] = Origin(base.file, base.path + ("poc",))


# --- pydantic errors -> diagnostics -------------------------------------------------

_TYPE_NAMES = {
    "bool_type": "true or false",
    "int_type": "a whole number",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "date_type": "a date (YYYY-MM-DD)",
    "datetime_type": "a time (e.g. 2027-03-31T18:00:00Z)",
}


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string '{value}'" if len(value) <= 60 else "a long string"
    return f"{value!r}"


def _walk(data: Any, loc: tuple[Any, ...]) -> tuple[YamlPath, Any, bool]:
    """Follow a pydantic ``loc`` through the data, skipping union-branch labels.

    Returns the path that exists in the data, the value there, and whether the
    whole ``loc`` was consumed.
    """
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
            path.append(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            path.append(part)
        elif _is_branch(part):
            continue  # a union member's label, not a key
        else:
            return tuple(path), node, False
    return tuple(path), node, True


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class whose field set applies at ``loc`` (for key suggestions)."""
    model: Any = ManifestFile
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        info = model.model_fields.get(part)
        if info is None:
            continue
        model = _inner_model(info.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    for arg in typing.get_args(annotation) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def schema_diagnostics(source: SourceFile, data: Any, exc: ValidationError) -> list[Diagnostic]:
    """Pydantic's errors as diagnostics at the key, the parent mapping or the value."""
    out: list[tuple[YamlPath, Diagnostic]] = []
    unions: dict[YamlPath, list[str]] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        etype = err["type"]
        path, value, complete = _walk(data, loc)
        ctx = err.get("ctx") or {}
        hint: str | None = None
        field_name = next((p for p in reversed(path) if isinstance(p, str)), None)
        if etype == "extra_forbidden":
            key = loc[-1]
            model = _model_at(loc[:-1])
            fields = list(model.model_fields) if model else []
            message = f"unknown key '{key}'"
            hint = did_you_mean(str(key), fields, f"allowed keys here: {', '.join(fields)}" if fields else None)
            position = source.position(path, key=True)
        elif etype == "missing":
            message = f"missing required key '{loc[-1]}'"
            hint = f"add '{loc[-1]}' to this mapping"
            position = source.position(path)
        elif etype == "accessplan":
            message, hint = ctx["message"], ctx.get("hint")
            position = source.position(path)
        elif complete and any(_is_branch(p) for p in loc):
            # The value matched no member of a union: gather what each expected.
            expected = _TYPE_NAMES.get(etype) or (f"{ctx['expected']}" if etype == "literal_error" else str(err["msg"]))
            unions.setdefault(path, [])
            if expected not in unions[path]:
                unions[path].append(expected)
            continue
        else:
            position = source.position(path)
            expected = _TYPE_NAMES.get(etype)
            if etype == "literal_error":
                message = f"expected {ctx.get('expected', 'another value')}, got {_describe(value)}"
                field_name = None
            elif expected:
                message = f"expected {expected}, got {_describe(value)}"
                if etype == "bool_type" and isinstance(value, str) and value.lower() in {"yes", "no", "on", "off", "y", "n", "true", "false"}:
                    hint = "YAML 1.2 booleans are the words true and false, unquoted"
                elif etype == "string_type" and value is not None:
                    hint = "quote the value"
            elif etype in {"too_short", "string_too_short"}:
                message = "must not be empty"
            elif etype == "string_too_long":
                message = f"is longer than {ctx.get('max_length')} characters"
            else:
                message = str(err["msg"])
            if field_name:
                message = f"{field_name}: {message}"
        out.append((path, Diagnostic("error", position, message, hint, "schema")))
    for path, expectations in unions.items():
        # A deeper error inside one member already says what is wrong.
        if any(len(p) > len(path) and p[: len(path)] == path for p, _ in out):
            continue
        value = _walk(data, path)[1]
        field_name = next((p for p in reversed(path) if isinstance(p, str)), "value")
        message = f"{field_name}: expected {' or '.join(expectations)}, got {_describe(value)}"
        out.append((path, Diagnostic("error", source.position(path), message, None, "schema")))
    return [d for _, d in out]


def _is_branch(part: Any) -> bool:
    return isinstance(part, str) and ("[" in part or part[:1].isupper() or part.startswith("function-"))
