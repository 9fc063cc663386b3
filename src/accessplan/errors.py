"""Source positions, diagnostics and the project's own exceptions.

Every problem a user can fix is a :class:`Diagnostic` that knows where it is
(file, line, column, all 1-based) and how to fix it. Library code collects
diagnostics and raises :class:`ManifestError` once, with all of them; only the
CLI prints them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]

# C0 and C1 control characters (tab and newline excepted), escape sequences and
# the Unicode bidirectional overrides/isolates: a name in a manifest must not be
# able to rewrite a reviewer's terminal.
_UNSAFE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI escape sequences
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC sequences
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
    r"|[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]"
)


def sanitize(text: str) -> str:
    """Strip control characters, escape sequences and bidi overrides."""
    return _UNSAFE.sub("", text)


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A place in a source file; ``line`` and ``column`` are 1-based."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"

    @property
    def short(self) -> str:
        """``FILE:LINE``, as used when one problem names another place."""
        return f"{self.file}:{self.line}" if self.line > 0 else self.file


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a manifest (or in state)."""

    severity: Severity
    position: Position
    message: str
    hint: str | None = None
    code: str = field(default="", compare=False)

    def render(self) -> str:
        text = f"{self.position}: {self.severity}: {sanitize(self.message)}"
        if self.hint:
            text += f" (hint: {sanitize(self.hint)})"
        return text

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "column": self.position.column,
            "file": self.position.file,
            "hint": self.hint,
            "line": self.position.line,
            "message": self.message,
            "severity": self.severity,
        }

    def sort_key(self) -> tuple[str, int, int, int, str]:
        return (
            self.position.file,
            self.position.line,
            self.position.column,
            0 if self.severity == "error" else 1,
            self.message,
        )


def sorted_diagnostics(diags: list[Diagnostic]) -> list[Diagnostic]:
    """Diagnostics in reading order, duplicates removed."""
    seen: set[tuple[object, ...]] = set()
    out: list[Diagnostic] = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        key = (d.severity, d.position, d.message, d.hint)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


class AccessplanError(Exception):
    """A problem the user can fix; the CLI prints it and exits 1."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = f"error: {sanitize(self.message)}"
        if self.hint:
            text += f" (hint: {sanitize(self.hint)})"
        return text


class ManifestError(AccessplanError):
    """A manifest that cannot be used; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted_diagnostics(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        first = errors[0] if errors else self.diagnostics[0]
        super().__init__(first.render())

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)


class StateError(AccessplanError):
    """A state that is unreadable, foreign, newer, or locked."""


class PlanRefused(AccessplanError):
    """A plan or apply that the rules refuse (stale, unsafe, escalating...)."""
