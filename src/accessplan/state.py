"""The state document and the interface every state backend offers.

State is what accessplan believes the platform holds: one document with a
``lineage`` (a UUID naming this state's history, fixed when it is created), a
``serial`` (raised by every write), the ``partner`` it belongs to and the
``resources`` by address, each ``{"spec": {...}, "status": {...}}``.

The planner only ever talks to a :class:`Backend`: read the state, take the
lock, commit a new state with compare-and-swap on ``(lineage, serial)``. The
JSON directory backend (:mod:`accessplan.jsonstate`) is the first; a PostgreSQL
backend can follow without touching the planner. No printing, no click here.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import orjson

from accessplan.errors import StateError

FORMAT_VERSION = 1

_KEYS = frozenset({"format_version", "lineage", "serial", "partner", "resources"})
UNREADABLE_HINT = "fix or restore it by hand; accessplan never overwrites a state it cannot read"


@dataclass(slots=True)
class State:
    """One state document; ``resources`` maps an address to ``{"spec", "status"}``."""

    lineage: str
    serial: int
    partner: str | None
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)

    @staticmethod
    def new(partner: str) -> State:
        """An empty state with a fresh lineage, as the first apply creates it."""
        return State(lineage=str(uuid.uuid4()), serial=0, partner=partner, resources={})

    def specs(self) -> dict[str, dict[str, Any]]:
        """``{address: spec}``: the side of state that plans diff against."""
        return {addr: res["spec"] for addr, res in self.resources.items()}

    def to_bytes(self) -> bytes:
        """The canonical document: keys sorted, indented by two, one trailing newline.

        Equal states give equal bytes, so a state under version control diffs
        cleanly and a saved plan can hash what it was made against.
        """
        doc = {
            "format_version": FORMAT_VERSION,
            "lineage": self.lineage,
            "partner": self.partner,
            "resources": self.resources,
            "serial": self.serial,
        }
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"

    @staticmethod
    def from_bytes(data: bytes, location: str) -> State:
        """Parse and check a state document; :class:`StateError` for anything else.

        The cyclic garbage collector is paused while parsing: a large state is
        millions of small containers, and collections triggered by their
        allocation cost more than the parse itself (PERF-NOTES).
        """
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            doc = _parse(data, location)
            return _check(doc, location)
        finally:
            if was_enabled:
                gc.enable()


def _parse(data: bytes, location: str) -> Any:
    if not data or data.isspace():  # not data.strip(): that would copy a state of tens of megabytes
        raise StateError(f"{location}: state is empty", UNREADABLE_HINT)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        what = "valid UTF-8" if "UTF-8" in exc.msg else "valid JSON"
        raise StateError(f"{location}: state is not {what} (line {exc.lineno} column {exc.colno})", UNREADABLE_HINT) from None


def _shape(location: str, problem: str) -> StateError:
    return StateError(f"{location}: not an accessplan state: {problem}", UNREADABLE_HINT)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check(doc: Any, location: str) -> State:
    if not isinstance(doc, dict):
        raise _shape(location, "the document is not a JSON object")
    version = doc.get("format_version")
    if version is None:
        raise _shape(location, "it has no format_version")
    if not _is_int(version):
        raise _shape(location, f"format_version is {orjson.dumps(version).decode()}, not a number")
    if version > FORMAT_VERSION:
        raise StateError(
            f"{location}: state was written by a newer accessplan (format_version {version}; this one reads {FORMAT_VERSION})",
            "upgrade accessplan to work with this state",
        )
    if version != FORMAT_VERSION:
        raise StateError(f"{location}: state has format_version {version}, which this accessplan cannot read (it reads {FORMAT_VERSION})", UNREADABLE_HINT)
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        raise _shape(location, f"unknown key '{unknown[0]}'")
    missing = sorted(_KEYS - set(doc))
    if missing:
        raise _shape(location, f"missing key '{missing[0]}'")
    lineage, serial, partner, resources = doc["lineage"], doc["serial"], doc["partner"], doc["resources"]
    if not isinstance(lineage, str) or not _is_uuid(lineage):
        raise _shape(location, "lineage is not a UUID")
    if not _is_int(serial) or serial < 0:
        raise _shape(location, "serial is not a whole number >= 0")
    if partner is not None and not isinstance(partner, str):
        raise _shape(location, "partner is not a string")
    if not isinstance(resources, dict):
        raise _shape(location, "resources is not an object")
    for addr, res in resources.items():
        if not (isinstance(res, dict) and len(res) == 2 and isinstance(res.get("spec"), dict) and isinstance(res.get("status"), dict)):
            raise _shape(location, f"resource '{addr}' is not {{\"spec\": {{...}}, \"status\": {{...}}}}")
    return State(lineage=lineage, serial=serial, partner=partner, resources=resources)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def check_partner(state: State, partner: str | None, location: str) -> None:
    """Refuse a state that belongs to another partner than the manifest's."""
    if partner is not None and state.partner is not None and state.partner != partner:
        raise StateError(
            f"state belongs to partner '{state.partner}', the manifest declares '{partner}'",
            f"{location} holds another partner's state; point --state at this partner's state",
        )


class Backend(Protocol):
    """Where state lives. Reads need no lock; every write holds :meth:`lock`."""

    location: str  # shown in messages; a URL never with its password

    def read(self, partner: str | None = None) -> State | None:
        """The stored state, or None when there is none yet.

        :class:`StateError` when it is unreadable, of another partner than
        ``partner``, or of another format_version; it is never replaced.
        """
        ...

    def lock(self, *, operation: str, actor: str | None, timeout: float, now: datetime | None = None) -> AbstractContextManager[None]:
        """Hold the exclusive lock for a whole apply or customer-side action.

        Waits up to ``timeout`` seconds (negative: for ever), then raises
        :class:`StateError` naming the holder. ``now`` is the clock the holder
        info records (``--now``); the real clock when omitted.
        """
        ...

    def commit(
        self,
        new: State,
        *,
        expected: tuple[str, int] | None,
        audit: Mapping[str, Any],
        notifications: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Replace the state with ``new``, all or nothing; the caller holds the lock.

        ``expected`` is the ``(lineage, serial)`` the caller read (None: no state
        yet); anything else stored means the state moved on and the commit is
        refused. The previous state becomes the backup; ``audit`` is appended to
        the audit log and each notification to the outbox.
        """
        ...

    def audit_log(self) -> list[dict[str, Any]]:
        """Every audit record, oldest first."""
        ...

    def outbox(self) -> list[dict[str, Any]]:
        """Every notification owed to customers, oldest first."""
        ...


def redact_url(url: str) -> str:
    """A URL fit for messages: the password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def open_backend(location: str) -> Backend:
    """The backend for ``--state``: a directory path, or a ``postgresql://`` URL."""
    scheme = urlsplit(location).scheme if "://" in location else ""
    if scheme in {"postgresql", "postgres"}:
        from accessplan.pgstate import PgBackend

        return PgBackend(location)
    if scheme:
        raise StateError(f"unsupported state location '{redact_url(location)}'", "give a directory, or a postgresql:// URL")
    from accessplan.jsonstate import JsonBackend

    return JsonBackend(location)
