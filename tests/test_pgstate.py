"""What the PostgreSQL state backend does beyond the shared contract.

Compare-and-swap that refuses a lost race even when the lock was bypassed,
all-or-nothing commits, the advisory lock (its holder table, its dedicated
session, its unlock check, a killed holder's session), the partner scope of a
URL, the schema version, and 8 processes x 50 applies without a lost update.
Every test runs against the real server of pg_fixture.py.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from dataclasses import dataclass
from typing import Any

import pytest

pytest_plugins = ["pg_fixture"]  # the PostgreSQL server: fixtures pg_cluster, pg_url
pytest.register_assert_rewrite("backend_conformance", "pg_fixture")

from backend_conformance import LINEAGE, NOW, PARTNER, audit, child, commit, holder, make_state  # after the rewrite hook
from pg_fixture import Cluster, connect, sql

from accessplan.errors import StateError
from accessplan.pglocation import parse_location
from accessplan.pgschema import SCHEMA_VERSION
from accessplan.pglock import LOCK_HINT, lock_key
from accessplan.pgstate import PgBackend
from accessplan.state import State, open_backend

UNREADABLE = "fix or restore it by hand; accessplan never overwrites a state it cannot read"
LOST_HINT = (
    "the commit, if any, was still checked by compare-and-swap; if the connection goes through a pooler in transaction mode "
    "(PgBouncer pool_mode=transaction), connect directly or through a session-mode pool"
)


@dataclass
class Where:
    """What backend_conformance's child processes need: a location."""

    location: str


def located(location: str) -> Any:
    """A stand-in for a conformance harness, for ``child()`` and ``holder()``."""
    return Where(location)


def pinned(url: str, partner: str = PARTNER) -> str:
    """``url`` pinned to one partner's state."""
    return f"{url}&partner={partner}"


def schema_of(url: str) -> str:
    return parse_location(url).schema


def backend(location: str) -> PgBackend:
    opened = open_backend(location)
    assert isinstance(opened, PgBackend)
    return opened


def advisory_locks(url: str, partner: str = PARTNER) -> list[int]:
    """Server pids of the sessions holding the partner's advisory lock."""
    unsigned = lock_key(schema_of(url), partner) & 0xFFFF_FFFF_FFFF_FFFF
    query = ("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid::bigint = %s AND objid::bigint = %s "
             "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
    return [r[0] for r in sql(url, query, unsigned >> 32, unsigned & 0xFFFF_FFFF)]


# -- locations ----------------------------------------------------------------


@pytest.mark.parametrize("url", ["postgresql://alice:s3cret@db.acme.example:5432/accessplan", "postgres://alice:s3cret@db.acme.example/accessplan"])
def test_a_postgresql_url_opens_the_postgresql_backend_without_its_password(url: str) -> None:
    opened = backend(url)
    assert opened.location == url.replace(":s3cret@", ":***@")


def test_accessplan_parameters_are_taken_out_of_the_url_and_passwords_hidden() -> None:
    where = parse_location("postgresql://db.acme.example/ap?sslmode=require&partner=acme-mssp&password=s3cret&schema=team_a")
    assert (where.partner, where.schema) == ("acme-mssp", "team_a")
    assert where.conninfo == "postgresql://db.acme.example/ap?sslmode=require&password=s3cret"
    assert where.display == "postgresql://db.acme.example/ap?sslmode=require&partner=acme-mssp&password=***&schema=team_a"
    assert where.defaults == {"application_name": "accessplan", "connect_timeout": "10"}


@pytest.mark.parametrize(
    ("url", "message", "hint"),
    [
        ("postgresql://h/db?partner=Acme", "invalid partner 'Acme' in the state URL postgresql://h/db?partner=Acme", "partner= takes a partner id, a slug like acme-mssp"),
        ("postgresql://h/db?schema=a;drop", "invalid schema 'a;drop' in the state URL postgresql://h/db?schema=a;drop",
         "schema= takes a lower-case PostgreSQL name, e.g. accessplan"),
        ("postgresql://h/db?partner=a&partner=b", "the state URL postgresql://h/db?partner=a&partner=b gives 'partner' twice", "give each parameter once"),
    ],
)
def test_a_bad_url_parameter_is_refused(url: str, message: str, hint: str) -> None:
    with pytest.raises(StateError) as caught:
        open_backend(url)
    assert caught.value.render() == f"error: {message} (hint: {hint})"


def test_a_failed_connection_never_shows_the_password(pg_cluster: Cluster) -> None:
    port = pg_cluster.port
    with pytest.raises(StateError) as caught:
        backend(f"postgresql://postgres:s3cret@127.0.0.1:{port}/no_such_db").read(PARTNER)
    assert caught.value.render() == (
        f"error: could not connect to the state database postgresql://postgres:***@127.0.0.1:{port}/no_such_db: "
        f'connection failed: connection to server at "127.0.0.1", port {port} failed: FATAL:  database "no_such_db" does not exist '
        "(hint: check the URL and that the server is running; keep the password out of the URL with PGPASSWORD or ~/.pgpass)"
    )
    assert "s3cret" not in caught.value.render()


# -- schema ---------------------------------------------------------------------


def test_reading_an_empty_database_creates_nothing_and_the_first_lock_creates_the_schema(pg_url: str) -> None:
    b = backend(pinned(pg_url))
    assert (b.read(PARTNER), b.audit_log(), b.outbox()) == (None, [], [])
    assert sql(pg_url, "SELECT to_regclass('states')") == [(None,)]
    with b.lock(operation="apply", actor=None, timeout=0):
        pass
    assert sql(pg_url, "SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
    tables = sql(pg_url, "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY 1", schema_of(pg_url))
    assert [t[0] for t in tables] == ["audit", "lock_holders", "outbox", "schema_version", "states"]


def test_init_creates_then_finds_the_tables_in_the_default_schema(pg_cluster: Cluster) -> None:
    url = pg_cluster.database()
    assert backend(url).init() == (None, SCHEMA_VERSION)
    assert backend(url).init() == (SCHEMA_VERSION, SCHEMA_VERSION)
    assert sql(url, "SELECT version FROM accessplan.schema_version") == [(SCHEMA_VERSION,)]


def test_a_schema_migrated_by_a_newer_accessplan_is_refused(pg_url: str) -> None:
    backend(pg_url).init()
    sql(pg_url, "INSERT INTO schema_version (version) VALUES (%s)", SCHEMA_VERSION + 1)
    for attempt in (lambda: backend(pg_url).read(PARTNER), lambda: backend(pg_url).init()):
        with pytest.raises(StateError) as caught:
            attempt()
        assert caught.value.render() == (
            f"error: {pg_url}: the accessplan tables are at schema version {SCHEMA_VERSION + 1}; this accessplan knows version {SCHEMA_VERSION} "
            "(hint: upgrade accessplan to work with this database)"
        )


# -- compare-and-swap and all-or-nothing ---------------------------------------------


def test_a_lost_race_is_refused_as_stale_even_when_the_lock_was_bypassed(pg_url: str) -> None:
    """A writer that never took the lock (say, through a transaction-mode pooler) still cannot be overwritten."""
    b = backend(pinned(pg_url))
    commit(b, make_state(1), None)
    with b.lock(operation="apply", actor=None, timeout=0):
        current = b.read(PARTNER)
        assert current is not None
        # Another writer commits serial 2 behind the lock's back.
        other = make_state(2, count=1).to_bytes().decode()
        sql(pg_url, "UPDATE states SET document = %s::jsonb, serial = 2 WHERE partner = %s", other, PARTNER)
        with pytest.raises(StateError) as caught:
            b.commit(make_state(2, count=7), expected=(current.lineage, current.serial), audit=audit(2))
    assert caught.value.render() == (
        f"error: state moved on: expected lineage {LINEAGE} serial 1, found lineage {LINEAGE} serial 2 (hint: the state changed since it was read; plan again)"
    )
    stored = backend(pinned(pg_url)).read(PARTNER)
    assert stored is not None and len(stored.resources) == 2  # the other writer's state, not ours
    assert [r["serial_after"] for r in b.audit_log()] == [1]


def test_a_row_edited_by_hand_behind_its_columns_is_not_overwritten(pg_url: str) -> None:
    b = backend(pinned(pg_url))
    commit(b, make_state(1), None)
    sql(pg_url, "UPDATE states SET document = jsonb_set(document, '{serial}', '5') WHERE partner = %s", PARTNER)
    label = f"{pinned(pg_url)} (partner {PARTNER})"
    with pytest.raises(StateError) as caught:
        commit(b, make_state(2), (LINEAGE, 1))
    assert caught.value.render() == f"error: {label}: the row's lineage and serial columns disagree with its document (hint: {UNREADABLE})"
    assert sql(pg_url, "SELECT serial, document -> 'serial' FROM states") == [(1, 5)]


def test_a_commit_that_fails_half_way_stores_nothing(pg_url: str) -> None:
    """The outbox insert fails (jsonb holds no NUL character) after the state row was updated: all of it is rolled back."""
    b = backend(pinned(pg_url))
    commit(b, make_state(1), None)
    before = sql(pg_url, "SELECT serial, document, backup FROM states")
    with pytest.raises(StateError) as caught:
        commit(b, make_state(2), (LINEAGE, 1), [{"event": "access_granted", "user": "bad\x00@acme.example"}])
    assert caught.value.render() == (
        f"error: could not write state ({pinned(pg_url)}): unsupported Unicode escape sequence "
        "(hint: the state is unchanged; fix the problem, then apply again)"
    )
    assert sql(pg_url, "SELECT serial, document, backup FROM states") == before
    assert (b.audit_log(), b.outbox()) == ([audit(1)], [])


def test_state_audit_and_outbox_are_written_in_one_transaction(pg_url: str) -> None:
    b = backend(pinned(pg_url))
    notes = [{"customer": "globex", "event": "access_granted", "serial": 1, "user": f"u{i}@acme.example"} for i in range(3)]
    commit(b, make_state(1), None, notes)
    rows = sql(pg_url, "SELECT xmin::text FROM states UNION ALL SELECT xmin::text FROM audit UNION ALL SELECT xmin::text FROM outbox")
    assert len(rows) == 5 and len({r[0] for r in rows}) == 1
    assert sql(pg_url, "SELECT partner, serial FROM outbox ORDER BY id") == [(PARTNER, 1)] * 3
    assert b.outbox() == notes


# -- the advisory lock -----------------------------------------------------------------


def test_the_lock_is_held_by_one_dedicated_session_named_in_the_holder_table(pg_url: str) -> None:
    b = backend(pinned(pg_url))
    with b.lock(operation="customer approve", actor="carol@acme.example", timeout=0, now=NOW):
        b.read(PARTNER)
        sessions = advisory_locks(pg_url)
        holders = sql(pg_url, "SELECT actor, host, pid, operation, since, backend_pid FROM lock_holders")
    assert len(sessions) == 1
    assert holders == [("carol@acme.example", socket.gethostname(), os.getpid(), "customer approve", "2026-11-23T09:00:00Z", sessions[0])]
    assert advisory_locks(pg_url) == []
    assert sql(pg_url, "SELECT count(*) FROM lock_holders") == [(0,)]


def test_a_lock_held_by_a_session_that_recorded_nothing_is_not_blamed_on_a_stale_row(pg_url: str) -> None:
    backend(pinned(pg_url)).init()
    sql(pg_url, "INSERT INTO lock_holders VALUES (%s, 'gone@acme.example', 'elsewhere', 1, 'apply', '2026-01-01T00:00:00Z', 1)", PARTNER)
    with connect(pg_url) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (lock_key(schema_of(pg_url), PARTNER),))
        with pytest.raises(StateError) as caught, backend(pinned(pg_url)).lock(operation="apply", actor=None, timeout=0):
            pytest.fail("the lock is held by another session")
    assert caught.value.render() == f"error: state is locked by another process (it has not said who yet) (hint: {LOCK_HINT})"


def test_lock_timeout_is_honoured_through_the_cli(pg_url: str, tmp_path: Any) -> None:
    import subprocess

    from plan_helpers import T0, accessplan_cmd, big_manifest

    manifest = tmp_path / "m.yaml"
    manifest.write_text(big_manifest(3, 1, "Solo"), encoding="utf-8")
    with holder(located(pinned(pg_url, "acme")), actor="holder@acme.example") as proc:
        started = time.monotonic()
        waiter = subprocess.run(accessplan_cmd("apply", str(manifest), "--state", pg_url, "--auto-approve", "--lock-timeout", "0.5"),
                                check=False, capture_output=True, text=True, timeout=60)
        waited = time.monotonic() - started
    assert waiter.returncode == 1 and waited >= 0.5
    assert waiter.stderr == (
        f"error: state is locked by holder@acme.example (pid {proc.pid} on {socket.gethostname()}, operation apply, since {T0}) (hint: {LOCK_HINT})\n"
    )
    assert backend(pinned(pg_url, "acme")).read("acme") is None


def test_releasing_a_lock_that_vanished_is_an_error(pg_url: str) -> None:
    b = backend(pinned(pg_url))
    with pytest.raises(StateError) as caught, b.lock(operation="apply", actor=None, timeout=0):
        assert b._held is not None
        b._held.conn.execute("SELECT pg_advisory_unlock_all()")  # what a pooler handing the session to someone else amounts to
    assert caught.value.render() == f"error: the state lock of partner '{PARTNER}' was gone before accessplan released it (hint: {LOST_HINT})"


def test_losing_the_lock_session_is_reported_at_release(pg_url: str) -> None:
    b = backend(pinned(pg_url))
    with pytest.raises(StateError) as caught, b.lock(operation="apply", actor=None, timeout=0):
        pid = advisory_locks(pg_url)[0]
        sql(pg_url, "SELECT pg_terminate_backend(%s)", pid)
    assert caught.value.message.startswith(f"lost the connection holding the state lock of partner '{PARTNER}': ")
    assert caught.value.hint == LOST_HINT
    with backend(pinned(pg_url)).lock(operation="apply", actor=None, timeout=0):
        pass  # the server released it with the session


def test_a_killed_holders_session_ends_and_takes_the_lock_with_it(pg_url: str) -> None:
    with holder(located(pinned(pg_url))) as proc:
        [session] = advisory_locks(pg_url)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while advisory_locks(pg_url) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert advisory_locks(pg_url) == []
        assert sql(pg_url, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", session) == [(0,)]
        # Its holder row is left behind, and is no lock: the next holder takes over.
        assert sql(pg_url, "SELECT pid FROM lock_holders") == [(proc.pid,)]
        with backend(pinned(pg_url)).lock(operation="apply", actor="bob@acme.example", timeout=0):
            assert sql(pg_url, "SELECT actor FROM lock_holders") == [("bob@acme.example",)]


# -- partners -----------------------------------------------------------------------------


def test_without_a_partner_in_the_url_the_lock_is_taken_on_the_first_read(pg_url: str) -> None:
    b = backend(pg_url)
    with b.lock(operation="apply", actor="alice@acme.example", timeout=0, now=NOW):
        assert advisory_locks(pg_url) == []
        assert b.read(PARTNER) is None
        assert len(advisory_locks(pg_url)) == 1
        with pytest.raises(StateError, match="^state is locked by alice@acme.example"), backend(pinned(pg_url)).lock(operation="apply", actor=None, timeout=0):
            pass
        with backend(pinned(pg_url, "initech-mssp")).lock(operation="apply", actor=None, timeout=0):
            pass  # another partner's state has a lock of its own
        b.commit(make_state(1), expected=None, audit=audit(1))
    assert advisory_locks(pg_url) == []


def test_several_partners_share_a_database_each_with_its_own_state(pg_url: str) -> None:
    for partner in ("acme-mssp", "initech-mssp"):
        commit(backend(pg_url), make_state(1, partner=partner), None)
    assert backend(pg_url).read("initech-mssp") == make_state(1, partner="initech-mssp")
    with pytest.raises(StateError) as caught:
        backend(pg_url).read()
    assert caught.value.render() == (
        f"error: {pg_url} holds the states of several partners (acme-mssp, initech-mssp); which one is meant? "
        f"(hint: name it in the URL, e.g. {pg_url}&partner=acme-mssp)"
    )
    assert backend(pinned(pg_url, "initech-mssp")).read() == make_state(1, partner="initech-mssp")
    assert [r["serial_after"] for r in backend(pinned(pg_url, "acme-mssp")).audit_log()] == [1]


def test_a_url_pinned_to_one_partner_refuses_another_partners_state(pg_url: str) -> None:
    expected = (
        f"error: {pinned(pg_url)} is the state of partner 'acme-mssp', not of partner 'initech-mssp' "
        "(hint: point --state at this partner's state (partner= in the URL names whose state it is))"
    )
    with pytest.raises(StateError) as caught:
        backend(pinned(pg_url, "acme-mssp")).read("initech-mssp")  # before any state exists: plan says so already
    assert caught.value.render() == expected
    with pytest.raises(StateError) as caught:
        commit(backend(pinned(pg_url, "acme-mssp")), make_state(1, partner="initech-mssp"), None)
    assert caught.value.render() == expected
    assert backend(pg_url).read() is None


# -- many writers ------------------------------------------------------------------------------


def test_8_processes_x_50_applies_lose_no_update(pg_url: str) -> None:
    writers, rounds = 8, 50
    commit(backend(pinned(pg_url)), State(LINEAGE, 0, PARTNER, {}), None)
    where = located(pinned(pg_url))
    procs = [child(where, "bump", f"w{i}", str(rounds)) for i in range(writers)]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0 and out.startswith("done"), out
    total = writers * rounds
    state = backend(pinned(pg_url)).read(PARTNER)
    assert state is not None and state.serial == total
    records = backend(pinned(pg_url)).audit_log()
    # Every apply's resource is in the final state, one audit record per serial, no serial twice.
    assert sorted(state.resources) == sorted(f"test/{r['writer']}/{r['serial_after']}" for r in records[1:])
    assert [r["serial_after"] for r in records] == list(range(total + 1))
    assert sorted(sum(1 for r in records[1:] if r["writer"] == f"w{i}") for i in range(writers)) == [rounds] * writers
    assert [n["serial"] for n in backend(pinned(pg_url)).outbox()] == [s for s in range(1, total + 1) for _ in range(3)]
