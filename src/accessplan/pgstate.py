"""The PostgreSQL state backend: one state per partner, shared by a whole team.

Selected by ``--state postgresql://...`` (or ``ACCESSPLAN_STATE``); the
tables are described in :mod:`accessplan.pgschema`, the URL in
:mod:`accessplan.pglocation`. It keeps the contract of
:class:`accessplan.state.Backend` exactly as the JSON directory backend does.

Writes
------
A commit is one transaction: the state row is replaced by compare-and-swap
(``UPDATE ... WHERE partner = $p AND lineage = $l AND serial = $old``; the
first state is an ``INSERT ... ON CONFLICT DO NOTHING``), and the audit record
and the notifications are inserted beside it. Either all of it is stored or
none of it. When no row matched, someone else committed since the caller read
the state: the commit is refused as stale, never turned into an overwrite.

Locking
-------
The lock is a session-level advisory lock per partner, held on a connection
of its own for the whole apply (:mod:`accessplan.pglock`). Releasing checks
that it was still held: a lock that vanished is reported, not ignored. Reads
and commits inside the lock use the lock's connection; reads outside use a
short-lived one.

The Backend interface takes the lock before the caller says which partner it
is about (``read(partner)`` comes just after ``lock()``). When the URL does not
pin the partner (``?partner=ID``), the lock is therefore taken on the first
``read`` or ``commit`` inside it, which name the partner, with the same
timeout: inside ``lock()``, no state is read or written before the partner's
lock is held.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import orjson
import psycopg
from psycopg import sql
from psycopg.adapt import Buffer, Loader
from psycopg.conninfo import make_conninfo
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb

from accessplan.errors import StateError
from accessplan.pglocation import PgLocation, parse_location, scrub
from accessplan.pglock import AdvisoryLock, Connection
from accessplan.pgschema import SCHEMA_VERSION, check_version, installed_version, migrate
from accessplan.state import UNREADABLE_HINT, State, check_partner

_LOST_HINT = (
    "the commit, if any, was still checked by compare-and-swap; if the connection goes through a pooler in transaction mode "
    "(PgBouncer pool_mode=transaction), connect directly or through a session-mode pool"
)
_CONNECT_HINT = "check the URL and that the server is running; keep the password out of the URL with PGPASSWORD or ~/.pgpass"
_STALE_HINT = "the state changed since it was read; plan again"
_BATCH = 500  # audit records or notifications per INSERT when importing


class _RawJsonb(Loader):
    """Hand ``jsonb`` values over as the server's text, unparsed: the state parser checks them."""

    def load(self, data: Buffer) -> bytes:
        return bytes(data)


def _same(data: Any) -> Any:
    return data


def _utc(now: datetime | None) -> str:
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def stale_message(expected: tuple[str, int] | None, found: tuple[str, int] | None) -> str:
    def name(key: tuple[str, int] | None) -> str:
        return "no state" if key is None else f"lineage {key[0]} serial {key[1]}"

    return f"state moved on: expected {name(expected)}, found {name(found)}"


class _Stale(Exception):
    """Compare-and-swap found no matching row; the transaction is rolled back."""


class PgBackend:
    """State kept in PostgreSQL; see the module documentation."""

    def __init__(self, location: str) -> None:
        self._where: PgLocation = parse_location(location)
        self.location = self._where.display
        self._held: AdvisoryLock | None = None
        self._ready = False  # tables seen at this accessplan's schema version

    # -- connections -------------------------------------------------------

    def _connect(self) -> Connection:
        try:
            conn = psycopg.connect(make_conninfo(self._where.conninfo, **self._where.defaults), autocommit=True)
        except psycopg.Error as exc:
            raise StateError(f"could not connect to the state database {self.location}: {scrub(str(exc), self._where)}", _CONNECT_HINT) from None
        conn.adapters.register_loader("jsonb", _RawJsonb)
        return conn

    @contextmanager
    def _session(self, doing: str) -> Iterator[Connection]:
        """The lock's connection inside ``lock()``, else a short-lived one; driver errors become StateError."""
        held = self._held
        conn = held.conn if held is not None else self._connect()
        try:
            yield conn
        except psycopg.Error as exc:
            raise StateError(f"could not {doing} ({self.location}): {scrub(str(exc), self._where)}") from None
        finally:
            if held is None:
                conn.close()

    def _table(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self._where.schema), sql.Identifier(name))

    def _tables_exist(self, conn: Connection) -> bool:
        if self._ready:
            return True
        version = installed_version(conn, self._where.schema)
        check_version(version, self.location)
        self._ready = version == SCHEMA_VERSION
        return version is not None

    def init(self) -> tuple[int | None, int]:
        """Create or upgrade the tables (``accessplan state init``): the schema version before and after."""
        with self._session("create the state tables") as conn:
            versions = migrate(conn, self._where.schema, self.location)
        self._ready = True
        return versions

    def label(self, partner: str) -> str:
        """How messages name one partner's state document."""
        return f"{self.location} (partner {partner})"

    # -- reading -----------------------------------------------------------

    def _scope(self, conn: Connection, partner: str | None) -> str | None:
        """Whose row to use: the URL's partner, the lock's, the caller's, or the only one stored."""
        if self._where.partner is not None:
            return self._where.partner
        held = self._held
        if held is not None and held.partner is not None:
            if partner is not None and partner != held.partner:
                raise RuntimeError(f"the lock is held for partner {held.partner!r}, not {partner!r}")
            return held.partner
        if partner is not None:
            return partner
        rows = conn.execute(sql.SQL("SELECT partner FROM {} ORDER BY partner LIMIT 3").format(self._table("states"))).fetchall()
        if len(rows) > 1:
            names = ", ".join(str(r[0]) for r in rows[:2]) + (", ..." if len(rows) > 2 else "")
            join = "&" if "?" in self.location else "?"
            raise StateError(
                f"{self.location} holds the states of several partners ({names}); which one is meant?",
                f"name it in the URL, e.g. {self.location}{join}partner={rows[0][0]}",
            )
        return str(rows[0][0]) if rows else None

    def _parse_row(self, row: TupleRow, scope: str) -> State:
        state = State.from_bytes(row[2], self.label(scope))
        if (state.lineage, state.serial) != (row[0], row[1]):
            raise StateError(f"{self.label(scope)}: the row's lineage and serial columns disagree with its document", UNREADABLE_HINT)
        return state

    def _fetch(self, conn: Connection, scope: str) -> State | None:
        row = conn.execute(sql.SQL("SELECT lineage, serial, document FROM {} WHERE partner = %s").format(self._table("states")), (scope,)).fetchone()
        return None if row is None else self._parse_row(row, scope)

    def read(self, partner: str | None = None) -> State | None:
        pinned = self._where.partner
        with self._session("read state") as conn:
            tables = self._tables_exist(conn)
            scope = self._scope(conn, partner) if tables else pinned
            if scope is not None and self._held is not None and self._held.partner is None:
                self._acquire(self._held, scope)
            state = self._fetch(conn, scope) if tables and scope is not None else None
        if state is not None:
            check_partner(state, partner or scope, self.label(str(scope)))
        elif pinned is not None and partner is not None and partner != pinned:  # no state yet, and not this partner's
            raise self._pinned_elsewhere(pinned, partner)
        return state

    def _records(self, table: str) -> list[dict[str, Any]]:
        with self._session(f"read the {table}") as conn:
            if not self._tables_exist(conn):
                return []
            scope = self._where.partner or (self._held.partner if self._held is not None else None)
            query = sql.SQL("SELECT record FROM {}").format(self._table(table))
            if scope is None:
                rows = conn.execute(query + sql.SQL(" ORDER BY id")).fetchall()
            else:
                rows = conn.execute(query + sql.SQL(" WHERE partner = %s ORDER BY id"), (scope,)).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    def audit_log(self) -> list[dict[str, Any]]:
        return self._records("audit")

    def outbox(self) -> list[dict[str, Any]]:
        return self._records("outbox")

    # -- locking -----------------------------------------------------------

    @contextmanager
    def lock(self, *, operation: str, actor: str | None, timeout: float, now: datetime | None = None) -> Iterator[None]:
        if self._held is not None:  # already ours: nothing more to take
            yield
            return
        conn = self._connect()
        try:
            held = AdvisoryLock(conn, self._table("lock_holders"), self._where.schema, operation, actor, _utc(now), timeout)
            with self._session_errors("lock state"):
                migrate(conn, self._where.schema, self.location)
                self._ready = True
                # A holder whose machine vanishes is noticed by TCP keepalives, not after hours.
                conn.execute("SELECT set_config('tcp_keepalives_idle', '30', false), set_config('tcp_keepalives_interval', '10', false), "
                             "set_config('tcp_keepalives_count', '3', false)")
            self._held = held
            if self._where.partner is not None:
                self._acquire(held, self._where.partner)
        except BaseException:
            self._held = None
            conn.close()
            raise
        failed = False
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            self._held = None
            self._release(held, quiet=failed)

    @contextmanager
    def _session_errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except psycopg.Error as exc:
            raise StateError(f"could not {doing} ({self.location}): {scrub(str(exc), self._where)}") from None

    def _acquire(self, held: AdvisoryLock, partner: str) -> None:
        with self._session_errors("lock state"):
            held.acquire(partner)

    def _release(self, held: AdvisoryLock, *, quiet: bool) -> None:
        """Unlock and close; a lock found gone is an error unless another one is already on its way."""
        try:
            if held.partner is not None and not held.release() and not quiet:
                raise StateError(f"the state lock of partner '{held.partner}' was gone before accessplan released it", _LOST_HINT)
        except psycopg.Error as exc:
            if not quiet:
                raise StateError(f"lost the connection holding the state lock of partner '{held.partner}': {scrub(str(exc), self._where)}", _LOST_HINT) from None
        finally:
            held.conn.close()

    # -- writing -----------------------------------------------------------

    def _writing_scope(self, held: AdvisoryLock, partner: str | None) -> str:
        scope = self._where.partner or held.partner or partner
        if scope is None:
            raise StateError(f"{self.location}: cannot tell which partner this state belongs to", "name the partner in the URL, e.g. ...?partner=ID")
        if partner is not None and partner != scope:
            raise self._pinned_elsewhere(scope, partner)
        if held.partner is None:
            self._acquire(held, scope)
        return scope

    def _pinned_elsewhere(self, pinned: str, partner: str) -> StateError:
        return StateError(
            f"{self.location} is the state of partner '{pinned}', not of partner '{partner}'",
            "point --state at this partner's state (partner= in the URL names whose state it is)",
        )

    def commit(
        self,
        new: State,
        *,
        expected: tuple[str, int] | None,
        audit: Mapping[str, Any],
        notifications: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        held = self._held
        if held is None:
            raise RuntimeError("PgBackend.commit() needs the state lock: call it inside lock()")
        scope = self._writing_scope(held, new.partner)
        document = Jsonb(new.to_bytes(), dumps=_same)
        conn, sent = held.conn, False
        try:
            with conn.transaction():
                if not self._swap(conn, scope, new, expected, document):
                    raise _Stale
                if expected is not None and (new.lineage != expected[0] or new.serial <= expected[1]):  # rolls back
                    raise ValueError(f"a commit keeps the lineage and raises the serial (got {new.lineage} {new.serial} after {expected})")
                self._insert(conn, "audit", scope, [(new.serial, dict(audit))])
                self._insert(conn, "outbox", scope, [(new.serial, dict(n)) for n in notifications])
                sent = True  # leaving the block sends COMMIT
        except _Stale:
            with self._session_errors("read state"):
                current = self._fetch(conn, scope)  # an unreadable state raises the read's own error
            found = None if current is None else (current.lineage, current.serial)
            raise StateError(stale_message(expected, found), _STALE_HINT) from None
        except psycopg.Error as exc:
            reason = scrub(str(exc), self._where)
            if sent:
                raise StateError(
                    f"lost the connection while committing serial {new.serial}; it may or may not have been saved: {reason}",
                    "run 'accessplan show' to see which serial the state has, then plan again",
                ) from None
            raise StateError(f"could not write state ({self.location}): {reason}", "the state is unchanged; fix the problem, then apply again") from None

    def _swap(self, conn: Connection, scope: str, new: State, expected: tuple[str, int] | None, document: Jsonb) -> bool:
        """Compare-and-swap the state row; False when the stored state is not ``expected``."""
        if expected is None:
            cur = conn.execute(
                sql.SQL("INSERT INTO {} (partner, lineage, serial, document) VALUES (%s, %s, %s, %s) ON CONFLICT (partner) DO NOTHING").format(self._table("states")),
                (scope, new.lineage, new.serial, document),
            )
            return cur.rowcount == 1
        # The document must agree with the columns compared: a row edited by hand is not overwritten.
        cur = conn.execute(
            sql.SQL(
                "UPDATE {} SET backup = document, document = %s, lineage = %s, serial = %s, updated_at = now() "
                "WHERE partner = %s AND lineage = %s AND serial = %s AND document -> 'format_version' = '1'::jsonb "
                "AND document ->> 'lineage' = lineage AND document -> 'serial' = to_jsonb(serial)"
            ).format(self._table("states")),
            (document, new.lineage, new.serial, scope, expected[0], expected[1]),
        )
        return cur.rowcount == 1

    def _insert(self, conn: Connection, table: str, scope: str, records: Sequence[tuple[int | None, dict[str, Any]]]) -> None:
        """Append records in order, one statement per batch."""
        for start in range(0, len(records), _BATCH):
            batch = records[start : start + _BATCH]
            conn.execute(
                sql.SQL(
                    "INSERT INTO {} (partner, serial, record) SELECT %s, (e.value ->> 0)::bigint, e.value -> 1 "
                    "FROM jsonb_array_elements(%s) WITH ORDINALITY AS e(value, n) ORDER BY e.n"
                ).format(self._table(table)),
                (scope, Jsonb([[serial, record] for serial, record in batch], dumps=orjson.dumps)),
            )

    # -- migration ---------------------------------------------------------

    def import_state(self, state: State, audit: Sequence[Mapping[str, Any]], outbox: Sequence[Mapping[str, Any]]) -> None:
        """Store a state with its whole history (``state migrate``), into a location holding none of it.

        One transaction; the caller holds the lock.
        """
        held = self._held
        if held is None:
            raise RuntimeError("PgBackend.import_state() needs the state lock: call it inside lock()")
        scope = self._writing_scope(held, state.partner)
        conn = held.conn
        with self._session_errors("write state"), conn.transaction():  # a StateError inside rolls it all back
            if not self._swap(conn, scope, state, None, Jsonb(state.to_bytes(), dumps=_same)):
                current = self._fetch(conn, scope)
                found = "" if current is None else f" (lineage {current.lineage} serial {current.serial})"
                raise StateError(f"{self.label(scope)} already holds a state{found}", "migrate into a location that holds no state of this partner")
            for table in ("audit", "outbox"):
                row = conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE partner = %s").format(self._table(table)), (scope,)).fetchone()
                if row is not None and row[0]:
                    raise StateError(f"{self.label(scope)} already holds {row[0]} {table} records of another history", "migrate into a location that holds nothing of this partner")
            self._insert(conn, "audit", scope, [(_int(r.get("serial_after")), dict(r)) for r in audit])
            self._insert(conn, "outbox", scope, [(_int(n.get("serial")), dict(n)) for n in outbox])


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

