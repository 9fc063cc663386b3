"""The backend contract (backend_conformance.py), run against the PostgreSQL backend.

A real server (pg_fixture.py), a fresh schema per test (``?schema=t_...``),
inspected with SQL beside the backend. The location pins the partner
(``&partner=acme-mssp``), as a state directory belongs to one partner.
"""

from __future__ import annotations

from typing import Any

import orjson
import psycopg
import pytest

pytest_plugins = ["pg_fixture"]  # the PostgreSQL server: fixtures pg_cluster, pg_url
pytest.register_assert_rewrite("backend_conformance", "pg_fixture")

from backend_conformance import PARTNER, BackendConformance  # after the rewrite hook
from pg_fixture import connect

from accessplan.pglock import LOCK_HINT
from accessplan.pgstate import PgBackend
from accessplan.state import Backend, open_backend

TABLES = ("states", "audit", "outbox", "lock_holders")


def canonical(document: Any) -> bytes:
    """A stored jsonb value in the canonical form of ``State.to_bytes``."""
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


class PgHarness:
    """A fresh database, inspected through SQL."""

    lock_hint = LOCK_HINT

    def __init__(self, url: str) -> None:
        self.url = url
        self.location = f"{url}&partner={PARTNER}"
        self.state_label = f"{self.location} (partner {PARTNER})"

    def open(self) -> Backend:
        backend = open_backend(self.location)
        assert isinstance(backend, PgBackend)
        return backend

    def _rows(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        with connect(self.url) as conn:
            if not conn.execute("SELECT to_regclass('states') IS NOT NULL").fetchone()[0]:  # type: ignore[index]
                return []
            return conn.execute(query.encode(), args).fetchall()

    def _document(self, column: str) -> bytes | None:
        rows = self._rows(f"SELECT {column} FROM states WHERE partner = %s", PARTNER)
        return canonical(rows[0][0]) if rows and rows[0][0] is not None else None

    def raw_state(self) -> bytes | None:
        return self._document("document")

    def raw_backup(self) -> bytes | None:
        return self._document("backup")

    def put_raw_state(self, data: bytes) -> None:
        """Store ``data`` as the partner's document, its columns taken from it where it has them."""
        PgBackend(self.location).init()
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            doc = None
        lineage = doc.get("lineage") if isinstance(doc, dict) and isinstance(doc.get("lineage"), str) else ""
        serial = doc.get("serial") if isinstance(doc, dict) and isinstance(doc.get("serial"), int) else 0
        with connect(self.url) as conn:
            conn.execute(
                "INSERT INTO states (partner, lineage, serial, document) VALUES (%s, %s, %s, %s::text::jsonb) "
                "ON CONFLICT (partner) DO UPDATE SET lineage = EXCLUDED.lineage, serial = EXCLUDED.serial, document = EXCLUDED.document",
                (PARTNER, lineage, serial, data.decode("utf-8", "replace")),
            )

    def snapshot(self) -> dict[str, bytes]:
        """Every row of every table, as JSON text."""
        return {
            table: b"\n".join(r[0].encode() for r in self._rows(f"SELECT row_to_json(t)::text FROM {table} t ORDER BY 1"))
            for table in TABLES
        }

    def leftovers(self) -> list[str]:
        """Holder rows that outlived their lock (a killed holder's)."""
        return [f"lock_holders/{r[0]}" for r in self._rows("SELECT partner FROM lock_holders ORDER BY partner")]


class TestPgBackend(BackendConformance):
    @pytest.fixture()
    def harness(self, pg_url: str) -> PgHarness:
        return PgHarness(pg_url)

    # A jsonb column cannot hold a document that is not JSON at all, so of the
    # broken states only those that are JSON can meet this backend; the others
    # are refused by the column itself (below).
    @pytest.mark.parametrize(
        ("raw", "message", "hint"),
        [
            (b'["a list"]\n', "not an accessplan state: the document is not a JSON object", "fix or restore it by hand; accessplan never overwrites a state it cannot read"),
            (
                b'{"format_version": 2, "lineage": "x", "serial": 1, "partner": "acme-mssp", "resources": {}, "new_thing": 1}\n',
                "state was written by a newer accessplan (format_version 2; this one reads 1)",
                "upgrade accessplan to work with this state",
            ),
            (
                b'{"format_version": 1, "lineage": "0f8e4c52-6a8b-4b7e-9a43-5d2f7c1e9b10", "serial": 1, "partner": "acme-mssp", "resources": {"a": []}}\n',
                'not an accessplan state: resource \'a\' is not {"spec": {...}, "status": {...}}',
                "fix or restore it by hand; accessplan never overwrites a state it cannot read",
            ),
        ],
        ids=["not-an-object", "newer", "bad-resource"],
    )
    def test_a_broken_or_newer_state_is_refused_and_never_replaced(self, harness: PgHarness, raw: bytes, message: str, hint: str) -> None:  # type: ignore[override]
        super().test_a_broken_or_newer_state_is_refused_and_never_replaced(harness, raw, message, hint)

    @pytest.mark.parametrize("raw", [b'{"format_version": 1, "lineage": ', b""], ids=["truncated", "empty"])
    def test_the_jsonb_column_refuses_what_is_not_json(self, harness: PgHarness, raw: bytes) -> None:
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            harness.put_raw_state(raw)
        assert harness.raw_state() is None
