"""The tables of the PostgreSQL state backend, and their migrations.

Everything lives in one PostgreSQL schema (``accessplan`` unless the URL says
``?schema=NAME``), so accessplan never meets an application's own tables:

``states``
    One row per partner: the state document as ``jsonb``, its ``lineage`` and
    ``serial`` beside it (what compare-and-swap compares), the previous
    document as ``backup``, and when it was last written.
``audit`` and ``outbox``
    One row per audit record and per notification owed to a customer, in the
    order they were written (``id``); written in the same transaction as the
    state they belong to, so they record exactly the commits that happened.
``lock_holders``
    Who holds a partner's advisory lock (actor, host, pid, operation, since)
    and the server session holding it, so that a waiter can name the holder,
    and tell a live holder from a row a killed one left behind.
``schema_version``
    One row per migration applied. A database migrated by a newer accessplan
    is refused rather than misread.

The schema is created on first write (or by ``accessplan state init``); reads
of a database where it does not exist yet see no state, and create nothing.
Creation and migration run in one transaction under a transaction-level
advisory lock, so concurrent first writers do not trip over each other.
"""

from __future__ import annotations

import re
from typing import LiteralString

import psycopg
from psycopg import sql

from accessplan.errors import StateError

SCHEMA_VERSION = 1
DEFAULT_SCHEMA = "accessplan"
SCHEMA_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_MIGRATION_LOCK = 0x61636365_73737063  # "accesspc": serialises schema creation within one database

#: Migration number -> its statements. Add new versions at the end; never edit one that shipped.
MIGRATIONS: dict[int, tuple[LiteralString, ...]] = {
    1: (
        """CREATE TABLE {schema}.states (
             partner    text PRIMARY KEY,
             lineage    text NOT NULL,
             serial     bigint NOT NULL,
             document   jsonb NOT NULL,
             backup     jsonb,
             updated_at timestamptz NOT NULL DEFAULT now()
           )""",
        """CREATE TABLE {schema}.audit (
             id          bigserial PRIMARY KEY,
             partner     text NOT NULL,
             serial      bigint,
             recorded_at timestamptz NOT NULL DEFAULT now(),
             record      jsonb NOT NULL
           )""",
        "CREATE INDEX audit_by_partner ON {schema}.audit (partner, id)",
        """CREATE TABLE {schema}.outbox (
             id          bigserial PRIMARY KEY,
             partner     text NOT NULL,
             serial      bigint,
             recorded_at timestamptz NOT NULL DEFAULT now(),
             record      jsonb NOT NULL
           )""",
        "CREATE INDEX outbox_by_partner ON {schema}.outbox (partner, id)",
        """CREATE TABLE {schema}.lock_holders (
             partner     text PRIMARY KEY,
             actor       text,
             host        text NOT NULL,
             pid         integer NOT NULL,
             operation   text NOT NULL,
             since       text NOT NULL,
             backend_pid integer NOT NULL
           )""",
    ),
}


def installed_version(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> int | None:
    """The schema's migration version, or None when accessplan's tables are not there."""
    table = f"{schema}.schema_version"
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()
    if row is None or not row[0]:
        return None
    found = conn.execute(sql.SQL("SELECT max(version) FROM {}.schema_version").format(sql.Identifier(schema))).fetchone()
    return int(str(found[0])) if found is not None and found[0] is not None else 0


def check_version(version: int | None, where: str) -> None:
    """Refuse a schema that a newer accessplan migrated: its tables may mean other things."""
    if version is not None and version > SCHEMA_VERSION:
        raise StateError(
            f"{where}: the accessplan tables are at schema version {version}; this accessplan knows version {SCHEMA_VERSION}",
            "upgrade accessplan to work with this database",
        )


def migrate(conn: psycopg.Connection[tuple[object, ...]], schema: str, where: str) -> tuple[int | None, int]:
    """Create or upgrade the tables; returns the version before and after.

    ``conn`` is in autocommit mode; the work is one transaction. The usual
    case, tables already current, costs two small queries and takes no lock.
    """
    current = installed_version(conn, schema)
    check_version(current, where)
    if current == SCHEMA_VERSION:
        return current, current
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        before = installed_version(conn, schema)
        check_version(before, where)
        if before == SCHEMA_VERSION:
            return before, before
        ident = sql.Identifier(schema)
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
        conn.execute(
            sql.SQL("CREATE TABLE IF NOT EXISTS {}.schema_version (version integer PRIMARY KEY, migrated_at timestamptz NOT NULL DEFAULT now())").format(ident)
        )
        for version in sorted(v for v in MIGRATIONS if v > (before or 0)):
            for statement in MIGRATIONS[version]:
                conn.execute(sql.SQL(statement).format(schema=ident))
            conn.execute(sql.SQL("INSERT INTO {}.schema_version (version) VALUES (%s)").format(ident), (version,))
    return before, SCHEMA_VERSION
