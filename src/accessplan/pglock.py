"""A partner's advisory lock in PostgreSQL, held on a connection of its own.

The lock of :class:`accessplan.pgstate.PgBackend`: a session-level advisory
lock whose key is a 64-bit hash of the schema and the partner id. A waiter
waits through PostgreSQL's own lock queue (``lock_timeout`` bounds it, so
waiters are served in order); ``timeout`` 0 is a single
``pg_try_advisory_lock``. The holder records itself in ``lock_holders``; a
waiter that gives up names it, once ``pg_locks`` confirms that the session
that wrote the row still holds the lock, so a row a killed holder left behind
never blames anybody.

The lock belongs to the server session: when its holder dies, its connection
closes, the session ends, and the lock goes with it. Through a pooler in
transaction mode, statements of one client may run in different sessions and
the lock means nothing; :data:`LOCK_HINT` says so, since it cannot be detected.
"""

from __future__ import annotations

import hashlib
import math
import os
import socket
import time
from dataclasses import dataclass
from typing import TypeAlias

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from accessplan.errors import StateError

Connection: TypeAlias = "psycopg.Connection[TupleRow]"

LOCK_HINT = (
    "wait for it to finish, or retry with --lock-timeout SECONDS; the lock is a PostgreSQL session-level advisory lock, "
    "which a pooler in transaction mode (PgBouncer pool_mode=transaction) does not keep: connect directly or through a session-mode pool"
)
_HOLDER_NOTE_WAIT = 0.5  # seconds a loser waits for the holder's row (who, since when)
_DEAD_HOLDER_GRACE = 5.0  # seconds to wait for the session of a holder known to be dead to end


def lock_key(schema: str, partner: str) -> int:
    """The advisory lock key of a partner's state: a stable signed 64-bit hash."""
    digest = hashlib.blake2b(f"accessplan state {schema} {partner}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _alive_here(host: str, pid: int) -> bool:
    """False only for a holder on this host whose process is gone."""
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _describe(holder: TupleRow | None) -> str:
    if holder is None:
        return "another process (it has not said who yet)"
    actor, pid, host, operation, since = holder
    return f"{actor or 'unknown'} (pid {pid} on {host}, operation {operation}, since {since})"


@dataclass(slots=True)
class AdvisoryLock:
    """The lock of one ``lock()`` block: its connection, who holds it, and the partner once taken.

    Driver errors (:class:`psycopg.Error`) pass through; the backend turns them into messages.
    """

    conn: Connection
    holders: sql.Composed  # the lock_holders table, schema-qualified
    schema: str
    operation: str
    actor: str | None
    since: str
    timeout: float
    partner: str | None = None

    def acquire(self, partner: str) -> None:
        """Take the partner's lock and record the holder; :class:`StateError` naming the holder if busy."""
        key = lock_key(self.schema, partner)
        got = self._try(key, self.timeout)
        if not got:
            holder = self._holder(partner, key)
            # A holder records itself just after taking the lock: a loser that
            # comes in between waits a moment for it rather than name nobody.
            deadline = time.monotonic() + _HOLDER_NOTE_WAIT
            while holder is None and time.monotonic() < deadline:
                time.sleep(0.02)
                holder = self._holder(partner, key)
            if holder is not None and self.timeout >= 0 and not _alive_here(str(holder[2]), int(holder[1])):
                got = self._try(key, _DEAD_HOLDER_GRACE)  # its session is ending
            if not got:
                raise StateError(f"state is locked by {_describe(holder)}", LOCK_HINT)
        self.partner = partner
        self.conn.execute(
            sql.SQL(
                "INSERT INTO {} (partner, actor, host, pid, operation, since, backend_pid) VALUES (%s, %s, %s, %s, %s, %s, pg_backend_pid()) "
                "ON CONFLICT (partner) DO UPDATE SET actor = EXCLUDED.actor, host = EXCLUDED.host, pid = EXCLUDED.pid, "
                "operation = EXCLUDED.operation, since = EXCLUDED.since, backend_pid = EXCLUDED.backend_pid"
            ).format(self.holders),
            (partner, self.actor, socket.gethostname(), os.getpid(), self.operation, self.since),
        )

    def release(self) -> bool:
        """Forget the holder row and unlock; False when the lock was no longer held."""
        assert self.partner is not None
        self.conn.execute(sql.SQL("DELETE FROM {} WHERE partner = %s AND backend_pid = pg_backend_pid()").format(self.holders), (self.partner,))
        row = self.conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(self.schema, self.partner),)).fetchone()
        return bool(row and row[0])

    def _try(self, key: int, timeout: float) -> bool:
        if timeout == 0:
            row = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            return bool(row and row[0])
        wait = "0" if timeout < 0 else f"{max(1, math.ceil(timeout * 1000))}ms"
        try:
            with self.conn.transaction():  # a session-level lock taken in a transaction outlives it
                self.conn.execute("SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', '0', true)", (wait,))
                self.conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        except psycopg.errors.LockNotAvailable:
            return False
        return True

    def _holder(self, partner: str, key: int) -> TupleRow | None:
        """The recorded holder, if the session that recorded it still holds the lock."""
        unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
        return self.conn.execute(
            sql.SQL(
                "SELECT h.actor, h.pid, h.host, h.operation, h.since FROM {} h WHERE h.partner = %s AND EXISTS ("
                "SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.pid = h.backend_pid "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND l.classid::bigint = %s AND l.objid::bigint = %s AND l.objsubid = 1)"
            ).format(self.holders),
            (partner, unsigned >> 32, unsigned & 0xFFFF_FFFF),
        ).fetchone()
