"""The command line on a PostgreSQL state: state init, plan/apply/show, stale plans, migrate both ways.

Real ``accessplan`` runs (in-process, or as processes where they race) against
the server of pg_fixture.py. The test server trusts every local connection, so
a URL may carry any password: it proves no output ever shows it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest_plugins = ["pg_fixture"]  # the PostgreSQL server: fixtures pg_cluster, pg_url
pytest.register_assert_rewrite("backend_conformance", "pg_fixture")

from backend_conformance import LINEAGE, PARTNER, audit, make_state  # after the rewrite hook
from pg_fixture import sql
from plan_helpers import T0, accessplan_cmd, big_manifest

from accessplan.cli import main
from accessplan.pgschema import SCHEMA_VERSION
from accessplan.state import open_backend

SECRET = "s3cret-pw"


def with_password(url: str) -> tuple[str, str]:
    """``url`` with a password in it, and how accessplan shows it."""
    return url.replace("postgres@", f"postgres:{SECRET}@"), url.replace("postgres@", "postgres:***@")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--now", T0, *args])
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err
    return code, captured.out, captured.err


# -- state init ---------------------------------------------------------------------------


def test_state_init_creates_the_tables_once(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    url, shown = with_password(pg_url)
    assert run(capsys, "state", "init", "--state", url) == (0, f"Created the accessplan tables in {shown} (schema version {SCHEMA_VERSION}).\n", "")
    assert run(capsys, "--state", url, "state", "init") == (0, f"The accessplan tables in {shown} are already at schema version {SCHEMA_VERSION}.\n", "")


def test_state_init_of_a_directory_creates_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    where = tmp_path / "st"
    assert run(capsys, "state", "init", "--state", str(where)) == (0, f"State directory {where} is ready (a state directory has no tables to create).\n", "")
    assert where.is_dir()


# -- plan and apply ---------------------------------------------------------------------------


def test_plan_apply_show_on_postgresql_never_print_the_password(pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    url, shown = with_password(pg_url)
    monkeypatch.setenv("ACCESSPLAN_STATE", url)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(big_manifest(3, 2, "First"), encoding="utf-8")
    code, out, _ = run(capsys, "plan", str(manifest))
    assert code == 0 and shown in out and "no state" in out
    code, out, _ = run(capsys, "apply", str(manifest), "--auto-approve", "--allow-escalation", "--as", "u000@acme.example")
    assert code == 0 and out.endswith("State serial 1.\n")
    code, out, _ = run(capsys, "plan", str(manifest), "--detailed-exitcode")
    assert code == 0
    code, out, _ = run(capsys, "show", "--format", "json")
    doc = orjson.loads(out)
    assert code == 0 and (doc["partner"], doc["serial"]) == ("acme", 1)
    records = open_backend(url).audit_log()
    assert [(r["actor"], r["serial_before"], r["serial_after"]) for r in records] == [("u000@acme.example", None, 1)]


def test_a_saved_plan_is_refused_once_the_state_moved_on(pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(big_manifest(3, 2, "First"), encoding="utf-8")
    second.write_text(big_manifest(3, 2, "Second"), encoding="utf-8")
    assert run(capsys, "apply", str(first), "--state", pg_url, "--auto-approve", "--allow-escalation")[0] == 0
    saved = tmp_path / "plan.bin"
    assert run(capsys, "plan", str(second), "--state", pg_url, "--out", str(saved))[0] == 0
    assert run(capsys, "apply", str(second), "--state", pg_url, "--auto-approve")[0] == 0
    code, _, err = run(capsys, "apply", str(saved), "--state", pg_url)
    assert code == 1
    assert err.startswith("error: the plan is stale: it was made against state serial 1, the state is now at serial 2")


def test_concurrent_applies_on_postgresql_lose_no_update(pg_url: str, tmp_path: Path) -> None:
    writers = 4
    manifests = []
    for i in range(writers + 1):
        path = tmp_path / f"v{i}.yaml"
        path.write_text(big_manifest(20, 10, f"Name {i}"), encoding="utf-8")
        manifests.append(path)
    first = subprocess.run(accessplan_cmd("apply", str(manifests[0]), "--state", pg_url, "--auto-approve", "--allow-escalation"),
                           check=False, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    procs = [
        subprocess.Popen(accessplan_cmd("apply", str(m), "--state", pg_url, "--auto-approve", "--lock-timeout", "60", "--as", "u000@acme.example",
                                        "--change-ref", f"w{i}"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i, m in enumerate(manifests[1:], start=1)
    ]
    results = [(p.wait(timeout=180), p.stderr.read() if p.stderr else "") for p in procs]
    assert [code for code, _ in results] == [0] * writers, results
    records = open_backend(pg_url).audit_log()
    assert [(a["serial_before"], a["serial_after"]) for a in records] == [(None, 1)] + [(n, n + 1) for n in range(1, writers + 1)]
    assert sorted(a["change_ref"] for a in records[1:]) == [f"w{i}" for i in range(1, writers + 1)]
    # Each writer planned under the lock against the state the previous one left: the last one's name stands.
    assert all(a["changes"] == [{"action": "update", "address": "customer/c000", "reason": "changed"}] for a in records[1:])
    state = open_backend(pg_url).read("acme")
    assert state is not None and state.serial == writers + 1
    assert state.resources["customer/c000"]["spec"]["name"] == f"Name {records[-1]['change_ref'][1]}"


# -- migrate ---------------------------------------------------------------------------------------


NOTES = [
    {"customer": "globex", "event": "access_granted", "serial": 2, "time": T0, "user": "bob@acme.example"},
    {"customer": "globex", "event": "access_removed", "serial": 3, "time": T0, "user": "eve@acme.example"},
]


def json_source(root: Path) -> Path:
    """A state directory with three commits, audit records and notifications."""
    backend = open_backend(str(root))
    for serial in (1, 2, 3):
        with backend.lock(operation="apply", actor=None, timeout=0):
            backend.commit(make_state(serial, count=serial), expected=None if serial == 1 else (LINEAGE, serial - 1), audit=audit(serial),
                           notifications=[n for n in NOTES if n["serial"] == serial])
    return root


def files(root: Path) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in ("state.json", "audit.jsonl", "outbox.jsonl")}


def migrated(source: str, target: str) -> str:
    return (
        f"Migrated the state of partner {PARTNER} (lineage {LINEAGE}, serial 3) with 3 audit records and 2 notifications from {source} to {target}.\n"
        f"Use --state {target} (or ACCESSPLAN_STATE) from now on; {source} was left as it was: retire it so that nobody applies to it.\n"
    )


def test_migrate_to_postgresql_and_back_keeps_lineage_serial_audit_and_outbox(pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = json_source(tmp_path / "json")
    before = files(source)
    url, shown = with_password(pg_url)
    assert run(capsys, "state", "migrate", "--from", str(source), "--to", url) == (0, migrated(str(source), shown), "")
    pg = open_backend(url)
    assert pg.read(PARTNER) == make_state(3, count=3)
    assert pg.audit_log() == [audit(1), audit(2), audit(3)]
    assert pg.outbox() == NOTES
    assert files(source) == before  # the source is left as it was
    back = tmp_path / "back"
    assert run(capsys, "state", "migrate", "--from", url, "--to", str(back)) == (0, migrated(shown, str(back)), "")
    assert files(back) == before  # byte for byte what the JSON backend wrote itself
    # The migrated state carries on: the next commit follows serial 3.
    with pg.lock(operation="apply", actor=None, timeout=0):
        pg.commit(make_state(4), expected=(LINEAGE, 3), audit=audit(4))
    assert [r["serial_after"] for r in open_backend(url).audit_log()] == [1, 2, 3, 4]


def test_migrate_refuses_a_target_that_holds_a_state(pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = json_source(tmp_path / "json")
    assert run(capsys, "state", "migrate", "--from", str(source), "--to", pg_url)[0] == 0
    snapshot = (open_backend(pg_url).read(PARTNER), open_backend(pg_url).audit_log())
    assert run(capsys, "state", "migrate", "--from", str(source), "--to", pg_url) == (
        1, "", f"error: {pg_url} (partner {PARTNER}) already holds a state (lineage {LINEAGE} serial 3) "
        "(hint: migrate into a location that holds no state of this partner)\n",
    )
    assert (open_backend(pg_url).read(PARTNER), open_backend(pg_url).audit_log()) == snapshot
    assert run(capsys, "state", "migrate", "--from", pg_url, "--to", str(source)) == (
        1, "", f"error: {source} already holds a state (lineage {LINEAGE} serial 3) (hint: migrate into a location that holds no state of this partner)\n",
    )


def test_migrate_refuses_an_audit_log_of_another_history(tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    source = json_source(tmp_path / "json")
    assert run(capsys, "state", "migrate", "--from", str(source), "--to", pg_url)[0] == 0
    target = tmp_path / "target"
    target.mkdir()
    (target / "audit.jsonl").write_text('{"serial_after": 9}\n', encoding="utf-8")
    assert run(capsys, "state", "migrate", "--from", pg_url, "--to", str(target)) == (
        1, "", f"error: {target / 'audit.jsonl'} already holds records of another history (hint: migrate into an empty state directory)\n",
    )
    assert not (target / "state.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "{empty}", "--to", "{pg}"), "error: {empty} holds no state to migrate (hint: check --from; a state exists once something was applied)\n"),
        (("--from", "{pg}", "--to", "{pg}"), "error: --from and --to are the same location ({pg}) (hint: migrate to another directory or database)\n"),
    ],
    ids=["empty-source", "same-location"],
)
def test_migrate_refuses_what_it_cannot_do(pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str) -> None:
    values: dict[str, Any] = {"empty": tmp_path / "empty", "pg": pg_url}
    assert run(capsys, "state", "migrate", *(a.format(**values) for a in args)) == (1, "", message.format(**values))
    assert open_backend(pg_url).read() is None


def test_migrate_refuses_a_database_holding_another_history_of_the_partner(pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = json_source(tmp_path / "json")
    open_backend(pg_url).init()  # type: ignore[attr-defined]
    sql(pg_url, "INSERT INTO audit (partner, serial, record) VALUES (%s, 7, '{\"serial_after\": 7}')", PARTNER)
    assert run(capsys, "state", "migrate", "--from", str(source), "--to", pg_url) == (
        1, "", f"error: {pg_url} (partner {PARTNER}) already holds 1 audit records of another history "
        "(hint: migrate into a location that holds nothing of this partner)\n",
    )
    assert open_backend(pg_url).read(PARTNER) is None  # the state row went back with the transaction
