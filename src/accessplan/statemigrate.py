"""Move a state between backends, history included (``accessplan state migrate``).

A team that outgrows a state directory moves to PostgreSQL (and back, if it
must) without losing anything that makes the state trustworthy: the copy keeps
the lineage and serial, so saved plans and ``--detailed-exitcode`` runs made
against the old location still line up, and it carries every audit record and
every notification owed to customers.

Both locations are locked for the whole copy (source first), so no apply lands
in the source half-way. The target must hold nothing of this partner yet: a
migration never merges two histories or overwrites a state. Afterwards the
copy is read back and compared with the source. The source is left as it was;
retiring it is the user's call.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from accessplan.errors import StateError
from accessplan.jsonstate import AUDIT, OUTBOX, STATE, JsonBackend
from accessplan.state import Backend, State

_OPERATION = "state migrate"


@dataclass(frozen=True, slots=True)
class Migrated:
    """What was copied."""

    partner: str | None
    lineage: str
    serial: int
    audit_records: int
    notifications: int


def migrate_state(source: Backend, target: Backend, *, timeout: float, actor: str | None, now: datetime | None = None) -> Migrated:
    """Copy the state of ``source`` with its audit log and outbox into an empty ``target``."""
    if source.location == target.location:
        raise StateError(f"--from and --to are the same location ({source.location})", "migrate to another directory or database")
    with source.lock(operation=_OPERATION, actor=actor, timeout=timeout, now=now):
        state = source.read()
        if state is None:
            raise StateError(f"{source.location} holds no state to migrate", "check --from; a state exists once something was applied")
        audit, outbox = source.audit_log(), source.outbox()
        with target.lock(operation=_OPERATION, actor=actor, timeout=timeout, now=now):
            _import(target, state, audit, outbox)
            copied = target.read(state.partner)
            if copied != state or target.audit_log() != audit or target.outbox() != outbox:
                raise StateError(
                    f"the copy in {target.location} does not read back as the state of {source.location}",
                    "the source is unchanged; remove what was copied to the target before trying again",
                )
    return Migrated(state.partner, state.lineage, state.serial, len(audit), len(outbox))


def _import(target: Backend, state: State, audit: Sequence[Mapping[str, Any]], outbox: Sequence[Mapping[str, Any]]) -> None:
    if isinstance(target, JsonBackend):
        _import_json(target, state, audit, outbox)
        return
    from accessplan.pgstate import PgBackend

    if isinstance(target, PgBackend):
        target.import_state(state, audit, outbox)
        return
    raise StateError(f"cannot migrate into {target.location}", "give a state directory or a postgresql:// URL")


def _lines(records: Sequence[Mapping[str, Any]]) -> bytes:
    """Records as the JSON backend appends them: one compact, key-sorted object per line."""
    return b"".join(orjson.dumps(dict(r), option=orjson.OPT_SORT_KEYS) + b"\n" for r in records)


def _import_json(target: JsonBackend, state: State, audit: Sequence[Mapping[str, Any]], outbox: Sequence[Mapping[str, Any]]) -> None:
    """Write the audit log and outbox, then the state last: a migration killed half-way leaves no state.

    Run again, it finds the logs it wrote itself (the same bytes) and carries on;
    logs holding anything else are another history and are refused.
    """
    existing = target.read(state.partner)
    if existing is not None:
        raise StateError(
            f"{target.location} already holds a state (lineage {existing.lineage} serial {existing.serial})",
            "migrate into a location that holds no state of this partner",
        )
    for name, data in ((AUDIT, _lines(audit)), (OUTBOX, _lines(outbox))):
        path = os.path.join(target.location, name)
        try:
            with open(path, "rb") as fh:
                current = fh.read()
        except FileNotFoundError:
            current = b""
        except OSError as exc:
            raise StateError(f"could not read {path}: {exc.strerror}") from None
        if current and current != data:
            raise StateError(f"{path} already holds records of another history", "migrate into an empty state directory")
        if data and current != data:
            _write_atomically(target.location, name, data)
    _write_atomically(target.location, STATE, state.to_bytes())


def _write_atomically(directory: str, name: str, data: bytes) -> None:
    """Temporary file, fsync, rename, fsync of the directory: the file is whole or absent."""
    target = os.path.join(directory, name)
    tmp = os.path.join(directory, f".{name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError as exc:
        with suppress(OSError):
            os.unlink(tmp)
        raise StateError(f"could not write {target}: {exc.strerror}", "the source is unchanged; fix the problem, then migrate again") from None
