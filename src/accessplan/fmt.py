"""``accessplan fmt``: one canonical layout for manifest files, comments kept.

Reviewers of an access change should see the change, not someone's editor
settings: the same manifest written by two people should be the same text. The
canonical layout is the SPEC's example: keys in the order it uses (identity
first, then what is licensed, then access, then people), two spaces per level,
sequences indented under their key. Comments stay with what they describe.

Formatting never changes meaning: every result is parsed again by the strict
reader and must give exactly the same data, with the same comments; a file for
which that fails is left alone and reported. Formatting is idempotent: a
formatted file formats to itself (property-tested).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from accessplan import fmt_layout, yamlsafe
from accessplan.errors import AccessplanError, Diagnostic, ManifestError, Position
from accessplan.fmt_layout import Shape

_USER = ("email", "first_name", "last_name", "timezone", "platform_admin", "distribution_list", "products", "roles", "logs")
_LOG_RULES = Shape(("select", "restrict"))
_GROUP = ("name", "description", "products", "roles", "members", "logs")
_ACCOUNT_CHILDREN = {
    "users": Shape(items=Shape(_USER, {"logs": _LOG_RULES, "products": Shape(), "roles": Shape()})),
    "groups": Shape(items=Shape(_GROUP, {"logs": _LOG_RULES})),
    "data_access": Shape(("default_all_logs",)),
    "log_sets": Shape(items=Shape(("name", "logs"))),
}
_PARTNER = (
    "id", "name", "region", "products", "users", "data_access", "log_sets", "logs", "groups",
)  # fmt: skip
_CUSTOMER = (
    "id", "name", "region", "labels", "products", "protect", "data_access", "log_sets", "logs", "groups",
    "poc_licenses", "poc", "users",
)  # fmt: skip
_GRANT = (
    "description", "users", "customers", "except_customers", "platform_admin", "duration", "until",
    "products", "roles", "logs",
)  # fmt: skip
_POLICY = (
    "min_platform_admins_per_customer", "forbid_permanent_platform_admin", "max_admin_duration",
    "max_admin_customers_per_user", "expiry_warning",
)  # fmt: skip

#: The shape of one manifest file: key orders as in the SPEC's example.
MANIFEST_SHAPE = Shape(
    ("version", "partner", "roles", "customers", "grants", "policy", "tests"),
    {
        "partner": Shape(_PARTNER, dict(_ACCOUNT_CHILDREN)),
        "roles": Shape(items=Shape(("name", "description", "product", "extends", "permissions"), {"permissions": Shape()})),
        "customers": Shape(
            items=Shape(
                _CUSTOMER,
                {
                    **_ACCOUNT_CHILDREN,
                    "labels": Shape(),
                    "poc": Shape(("products", "first_user", "expires")),
                    "poc_licenses": Shape(items=Shape(("product", "product_admin", "expires"))),
                },
            )
        ),
        "grants": Shape(items=Shape(_GRANT, {"customers": Shape(("labels",), {"labels": Shape()}), "logs": _LOG_RULES})),
        "policy": Shape(_POLICY),
        "tests": Shape(
            items=Shape(
                ("name", "user", "customer", "expect"),
                {"expect": Shape(("platform_admin", "products", "features", "logs"), {"features": Shape(), "logs": Shape()})},
            )
        ),
    },
)


def format_text(text: str, name: str) -> str:
    """The canonical layout of one manifest file's text.

    :class:`ManifestError` (with the position) for text that is not acceptable
    YAML; :class:`AccessplanError` when the result would not mean the same.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    data = _load(text, name)
    if data is None:
        return text  # nothing but comments: nothing to lay out
    try:
        doc = fmt_layout.parse(text)
        result = fmt_layout.render(text, doc, MANIFEST_SHAPE)
    except fmt_layout.LayoutError as exc:
        raise _unsafe(name, str(exc)) from None
    try:
        again, _ = yamlsafe.load(result)
    except yamlsafe.YAMLProblem as exc:
        raise _unsafe(name, f"the result would not parse ({exc.message})") from None
    if again != data:
        raise _unsafe(name, "the result would not hold the same data")
    if sorted(fmt_layout.parse(result).comments) != sorted(doc.comments):
        raise _unsafe(name, "a comment would be lost")
    return result


def _load(text: str, name: str) -> object:
    try:
        data, _ = yamlsafe.load(text)
    except yamlsafe.YAMLProblem as exc:
        raise ManifestError([Diagnostic("error", Position(name, exc.line, exc.column), exc.message, exc.hint, "yaml")]) from None
    return data


def _unsafe(name: str, why: str) -> AccessplanError:
    return AccessplanError(f"{name}: cannot format this file safely: {why}; it was left unchanged", "please report this, with the file")


@dataclass(frozen=True, slots=True)
class Formatted:
    """One file's outcome: its name, its text before and after (``after`` None: not formatted)."""

    path: Path
    name: str
    before: str
    after: str | None
    error: AccessplanError | None = None

    @property
    def changed(self) -> bool:
        return self.after is not None and self.after != self.before

    def diff(self) -> str:
        if not self.changed or self.after is None:
            return ""
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True), self.after.splitlines(keepends=True), f"a/{self.name}", f"b/{self.name}"
            )
        )


def manifest_files(target: Path) -> list[Path]:
    """A file as given, or every manifest file under a directory (as the loader finds them)."""
    from accessplan.loader import discover

    if not target.exists():
        raise AccessplanError(f"{target}: no such file or directory", "check the path")
    return discover(target)


def format_file(path: Path, name: str, max_bytes: int) -> Formatted:
    """Read and format one file; problems are returned, not raised, so that every file is seen."""
    from accessplan.loader import read_text

    try:
        text = read_text(path, name, max_bytes)  # refuses binary, non-UTF-8, empty and oversized files
        original = path.read_bytes().decode("utf-8")
        return Formatted(path, name, original, format_text(text, name))
    except AccessplanError as exc:
        return Formatted(path, name, "", None, exc)


def write(result: Formatted) -> None:
    """Replace the file with its formatted text (whole, through a temporary file)."""
    import os
    import secrets

    if not result.changed or result.after is None:
        return
    tmp = result.path.with_name(f".{result.path.name}.fmt-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        tmp.write_text(result.after, encoding="utf-8")
        os.chmod(tmp, result.path.stat().st_mode & 0o7777)
        os.replace(tmp, result.path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AccessplanError(f"{result.name}: could not write the file: {exc.strerror}", "check its permissions") from None
