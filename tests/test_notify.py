"""Notifications owed to customers (``outbox.jsonl``): exact records, only where the customer asked."""

from __future__ import annotations

from pathlib import Path

from mssp_fixtures import BOB, GLOBEX, GRANTS, PARTNER, T0, T1, T2, apply_ok, bootstrap, cli, jsonl, manifest  # noqa: F401
from plan_helpers import Cli, write_manifest

from accessplan.notify import GRANTED, event_of, for_changes
from accessplan.plan import Action, Change, Reason

NO_BOB = GRANTS.replace(
    "  - users: [bob@acme.example]\n    customers: [globex]\n    products: [InsightIDR]\n    roles: [InsightIDR Viewer]\n    logs: {select: [Firewall]}\n", ""
)
GLOBEX_NO_BOB = GLOBEX.replace("members: [bob@acme.example]", "members: []")


def record(time: str, user: str, event: str, serial: int) -> dict[str, object]:
    return {"customer": "globex", "event": event, "serial": serial, "time": time, "user": user}


def test_nothing_is_owed_until_the_customer_asks(cli: Cli, manifest: Path) -> None:
    bootstrap(cli, manifest)
    write_manifest(manifest, PARTNER, GLOBEX_NO_BOB, NO_BOB)
    apply_ok(cli, manifest, now=T1)
    assert cli("customer", "revoke", "globex", now=T2).code == 0
    assert jsonl(cli.state / "outbox.jsonl") == []


def test_grants_and_removals_on_apply_are_owed_as_asked(cli: Cli, manifest: Path) -> None:
    apply_ok(cli, manifest)  # serial 1: globex pending
    assert cli("customer", "notifications", "globex", "--on-grant", "--as", "nadia@globex.example").code == 0  # serial 2
    assert cli("customer", "approve", "globex", "--as", "nadia@globex.example").code == 0  # serial 3
    apply_ok(cli, manifest, now=T1)  # serial 4: the four deferred assignments are granted
    granted = [record(T1, f"{u}@acme.example", "access_granted", 4) for u in ("alice", "bob", "dave", "erin")]
    assert jsonl(cli.state / "outbox.jsonl") == granted

    write_manifest(manifest, PARTNER, GLOBEX_NO_BOB, NO_BOB)
    apply_ok(cli, manifest, now=T1)  # serial 5: bob removed, but removals were not asked for
    assert jsonl(cli.state / "outbox.jsonl") == granted

    assert cli("customer", "notifications", "globex", "--on-removal", "--no-on-grant").code == 0  # serial 6
    write_manifest(manifest, PARTNER, GLOBEX_NO_BOB, NO_BOB.replace("erin@acme.example", "carol@acme.example"))
    apply_ok(cli, manifest, now=T2)  # serial 7: erin removed (owed), carol granted (no longer asked)
    assert jsonl(cli.state / "outbox.jsonl") == [*granted, record(T2, "erin@acme.example", "access_removed", 7)]
    assert jsonl(cli.state / "audit.jsonl")[-1]["serial_after"] == 7


def test_expiry_and_revocation_owe_removals(cli: Cli, manifest: Path) -> None:
    write_manifest(manifest, PARTNER, GLOBEX, GRANTS.replace("    logs: {select: [Firewall]}\n", "    logs: {select: [Firewall]}\n    duration: 1h\n"))
    bootstrap(cli, manifest)  # serial 3
    assert cli("customer", "notifications", "globex", "--on-removal", "--on-grant").code == 0  # serial 4
    apply_ok(cli, manifest, now=T2)  # serial 5: bob's hour is over
    expired = record(T2, "bob@acme.example", "access_removed", 5)
    assert jsonl(cli.state / "outbox.jsonl") == [expired]
    assert cli("customer", "revoke", "globex", "--as", "nadia@globex.example", now=T2).code == 0  # serial 6
    assert jsonl(cli.state / "outbox.jsonl") == [expired] + [
        record(T2, f"{u}@acme.example", "access_removed", 6) for u in ("alice", "dave", "erin")  # bob's tombstone gives no access
    ]
    revoke_audit = jsonl(cli.state / "audit.jsonl")[-1]
    assert (revoke_audit["operation"], revoke_audit["serial_after"]) == ("customer revoke", 6)


def test_only_whether_access_exists_is_announced() -> None:
    spec = {"expiry": "1h", "platform_admin": False}
    assert event_of(Change(BOB, Action.CREATE, Reason.NEW, None, spec)) == GRANTED
    assert event_of(Change(BOB, Action.UPDATE, Reason.RENEWED, spec, {**spec, "expiry": "2h"})) == GRANTED
    assert event_of(Change(BOB, Action.UPDATE, Reason.CHANGED, spec, {**spec, "platform_admin": True})) is None
    assert event_of(Change(BOB, Action.DELETE, Reason.CUSTOMER_REMOVED, spec, None)) == "access_removed"
    assert event_of(Change(BOB, Action.DEFER, Reason.CUSTOMER_PENDING, None, spec)) is None
    assert event_of(Change("group/globex/SOC", Action.CREATE, Reason.NEW, None, {})) is None
    current = {"customer/globex": {"spec": {}, "status": {"notifications": {"on_grant": True, "on_removal": False}}}}
    made = [Change(BOB, Action.CREATE, Reason.NEW, None, spec), Change("assignment/initech/x@a", Action.CREATE, Reason.NEW, None, spec)]
    assert for_changes(made, current, serial=9, time=T0) == [record(T0, "bob@acme.example", "access_granted", 9)]
