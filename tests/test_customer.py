"""The customer's side (SPEC section 4): approve, revoke, notifications — locked, audited, ``--as``."""

from __future__ import annotations

from pathlib import Path

import pytest
from mssp_fixtures import BOB, T1, apply_ok, bootstrap, changes, cli, jsonl, manifest, plan_json  # noqa: F401
from plan_helpers import Cli

from accessplan.state import open_backend


def test_pending_then_deferred_then_approved_then_applied(cli: Cli, manifest: Path) -> None:
    apply_ok(cli, manifest, "--as", "alice@acme.example")
    assert cli.resources()["customer/globex"]["status"] == {"protect": False, "relationship": "pending"}
    pending = cli("plan", str(manifest), "--detailed-exitcode")
    assert pending.code == 0  # deferred entries are not changes
    assert pending.out.splitlines()[-2:] == [
        "No changes to apply: everything listed is deferred until the customer approves the partner.",
        "Plan: 0 to add, 0 to change, 0 to destroy, 9 deferred.",
    ]
    assert {reason for _, _, reason in changes(plan_json(cli, manifest))} == {"customer_pending"}

    approved = cli("customer", "approve", "globex", "--as", "Nadia@globex.example", now=T1)
    assert (approved.code, approved.err) == (0, "")
    assert approved.out == "Customer globex approved the partner (was pending). State serial 2.\nThe next plan applies what was deferred there.\n"
    assert cli.resources()["customer/globex"]["status"] == {
        "approved_at": T1, "approved_by": "nadia@globex.example", "protect": False, "relationship": "approved",
    }
    plan = plan_json(cli, manifest, now=T1)
    assert changes(plan) == [
        ("create", "logset/globex/Firewall", "new"),
        ("create", "log/globex/fw-1", "new"),
        ("create", "log/globex/fw-2", "new"),
        ("create", "user/globex/nadia@globex.example", "new"),
        ("create", "assignment/globex/alice@acme.example", "new"),
        ("create", BOB, "new"),
        ("create", "assignment/globex/dave@acme.example", "new"),
        ("create", "assignment/globex/erin@acme.example", "new"),
        ("create", "group/globex/SOC", "new"),
    ]
    assert [e["kind"] for e in plan["escalations"] if e["address"] == BOB] == ["new_access"]
    refused = cli("apply", str(manifest), "--auto-approve", "--as", "alice@acme.example", now=T1)
    assert refused.code == 1  # a deferred pair going live is an escalation
    assert refused.err.startswith("error: the plan escalates access: ")
    apply_ok(cli, manifest, "--as", "alice@acme.example", now=T1)
    assert cli.resources()[BOB]["status"] == {"change_ref": None, "expires_at": None, "granted_at": T1, "granted_by": "alice@acme.example"}
    assert cli("plan", str(manifest), "--detailed-exitcode", now=T1).code == 0


def test_revoke_removes_assignments_and_memberships_in_one_write_then_defers(cli: Cli, manifest: Path) -> None:
    bootstrap(cli, manifest)
    revoked = cli("customer", "revoke", "globex", "--as", "nadia@globex.example", now=T1)
    assert (revoked.code, revoked.err) == (0, "")
    assert revoked.out == (
        "Customer globex revoked the partner (was approved). State serial 4.\n"
        "  - assignment/globex/alice@acme.example\n"
        "  - assignment/globex/bob@acme.example\n"
        "  - assignment/globex/dave@acme.example\n"
        "  - assignment/globex/erin@acme.example\n"
        "  ~ group/globex/SOC (partner members removed)\n"
        "Removed 4 assignments and their memberships in 1 group; 0 removal notifications owed. "
        "Later plans defer these grants (customer_revoked).\n"
    )
    resources = cli.resources()
    assert [a for a in resources if a.startswith("assignment/")] == []
    assert resources["group/globex/SOC"]["spec"]["members"] == []
    assert resources["user/globex/nadia@globex.example"]["spec"]["platform_admin"] is True  # the customer's own staff stay
    assert resources["customer/globex"]["status"]["relationship"] == "revoked"
    assert jsonl(cli.state / "audit.jsonl")[-1] == {
        "actor": "nadia@globex.example",
        "change_ref": None,
        "changes": [
            {"action": "update", "address": "customer/globex", "reason": "customer_revoked"},
            {"action": "delete", "address": "assignment/globex/alice@acme.example", "reason": "customer_revoked"},
            {"action": "delete", "address": "assignment/globex/bob@acme.example", "reason": "customer_revoked"},
            {"action": "delete", "address": "assignment/globex/dave@acme.example", "reason": "customer_revoked"},
            {"action": "delete", "address": "assignment/globex/erin@acme.example", "reason": "customer_revoked"},
            {"action": "update", "address": "group/globex/SOC", "reason": "customer_revoked"},
        ],
        "customer": "globex",
        "operation": "customer revoke",
        "plan_hash": None,
        "serial_after": 4,
        "serial_before": 3,
        "time": T1,
    }
    plan = plan_json(cli, manifest, now=T1)
    assert changes(plan) == [
        ("defer", "assignment/globex/alice@acme.example", "customer_revoked"),
        ("defer", BOB, "customer_revoked"),
        ("defer", "assignment/globex/dave@acme.example", "customer_revoked"),
        ("defer", "assignment/globex/erin@acme.example", "customer_revoked"),
        ("defer", "group/globex/SOC", "customer_revoked"),
    ]
    before = cli.state_bytes()
    nothing = cli("apply", str(manifest), "--auto-approve", now=T1)
    assert nothing.out.splitlines()[-1] == "Nothing to apply: the state is unchanged."
    assert cli.state_bytes() == before
    # approving again lets the next plan grant it all afresh (each pair a new_access escalation)
    assert cli("customer", "approve", "globex", "--as", "nadia@globex.example", now=T1).code == 0
    again = plan_json(cli, manifest, now=T1)
    assert [c for c in changes(again) if c[1] == BOB] == [("create", BOB, "new")]
    assert {(e["address"], e["detail"]) for e in again["escalations"] if e["kind"] == "new_access"} >= {(BOB, "new access to customer globex")}


def test_revoke_keeps_expired_tombstones(cli: Cli, manifest: Path) -> None:
    from mssp_fixtures import GLOBEX, GRANTS, PARTNER
    from plan_helpers import write_manifest

    write_manifest(manifest, PARTNER, GLOBEX, GRANTS.replace("    roles: [InsightIDR Viewer]\n", "    roles: [InsightIDR Viewer]\n    duration: 1h\n"))
    bootstrap(cli, manifest)
    apply_ok(cli, manifest, now="2026-11-23T12:00:00Z")  # bob's hour is over: a tombstone
    assert cli.resources()[BOB]["status"]["tombstone"] == "expired"
    cli("customer", "revoke", "globex", now="2026-11-23T12:00:00Z")
    assert cli.resources()[BOB]["status"]["tombstone"] == "expired"
    assert "assignment/globex/alice@acme.example" not in cli.resources()


def test_approving_or_revoking_twice_writes_nothing(cli: Cli, manifest: Path) -> None:
    bootstrap(cli, manifest)
    before = cli.state_bytes()
    again = cli("customer", "approve", "globex")
    assert (again.code, again.out) == (0, "Customer globex has already approved the partner: nothing to do.\n")
    assert cli.state_bytes() == before
    assert cli("customer", "revoke", "globex").code == 0
    revoked = cli.state_bytes()
    twice = cli("customer", "revoke", "globex")
    assert (twice.code, twice.out) == (0, "Customer globex has already revoked the partner: nothing to do.\n")
    assert cli.state_bytes() == revoked
    assert len(jsonl(cli.state / "audit.jsonl")) == 4  # apply, approve, apply, revoke


def test_notification_settings_are_off_until_turned_on(cli: Cli, manifest: Path) -> None:
    apply_ok(cli, manifest)
    shown = cli("customer", "notifications", "globex")
    assert shown.out == "Customer globex notifications: on grant off, on removal off (unchanged).\n"
    turned = cli("customer", "notifications", "globex", "--on-grant", "--as", "nadia@globex.example")
    assert turned.out == "Customer globex notifications: on grant on, on removal off. State serial 2.\n"
    both = cli("customer", "notifications", "globex", "--on-removal")
    assert both.out == "Customer globex notifications: on grant on, on removal on. State serial 3.\n"
    off = cli("customer", "notifications", "globex", "--no-on-grant")
    assert off.out == "Customer globex notifications: on grant off, on removal on. State serial 4.\n"
    assert cli.resources()["customer/globex"]["status"]["notifications"] == {"on_grant": False, "on_removal": True}
    assert jsonl(cli.state / "audit.jsonl")[-1]["changes"] == [{"action": "update", "address": "customer/globex", "reason": "notifications"}]
    # later applies keep what the customer set
    apply_ok(cli, manifest)
    assert cli.resources()["customer/globex"]["status"]["notifications"] == {"on_grant": False, "on_removal": True}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("approve", "globex", "--as", "alice@acme.example"),
         "error: alice@acme.example is a user of partner 'acme' and may not approve the partner for customer 'globex': "
         "only the customer's own platform administrator can (hint: run it as the customer's platform administrator (--as EMAIL))"),
        (("revoke", "globex", "--as", "mallory@globex.example"),
         "error: mallory@globex.example may not revoke the partner's access to customer 'globex': that needs a platform administrator "
         "of customer 'globex' (nadia@globex.example) (hint: run it as one of them (--as EMAIL))"),
        (("notifications", "globex", "--on-grant", "--as", "bob@acme.example"),
         "error: bob@acme.example is a user of partner 'acme' and may not change the notification settings of customer 'globex': "
         "only the customer's own platform administrator can (hint: run it as the customer's platform administrator (--as EMAIL))"),
        (("approve", "globx"),
         "error: customer 'globx' is not in the state at {state} (hint: did you mean 'globex'?)"),
        (("approve", "globex", "--as", "not-an-email"),
         "error: 'not-an-email' is not a valid email address for --as (hint: give the email of the person acting)"),
    ],
    ids=["partner-user", "not-the-customers-admin", "partner-user-notifications", "unknown-customer", "bad-email"],
)
def test_customer_actions_refused(cli: Cli, manifest: Path, args: tuple[str, ...], message: str) -> None:
    bootstrap(cli, manifest)  # nadia, globex's platform administrator, is in state
    before = cli.state_bytes()
    refused = cli("customer", *args)
    assert (refused.code, refused.out) == (1, "")
    assert refused.err == message.format(state=cli.state) + "\n"
    assert cli.state_bytes() == before


def test_before_the_customers_admins_are_known_any_outsider_may_act(cli: Cli, manifest: Path) -> None:
    apply_ok(cli, manifest)  # globex is pending: nadia's user is deferred, the state knows no globex admin
    assert cli("customer", "approve", "globex", "--as", "it@globex.example").code == 0
    assert jsonl(cli.state / "audit.jsonl")[-1]["actor"] == "it@globex.example"


def test_without_state_or_with_the_lock_held(cli: Cli, manifest: Path) -> None:
    missing = cli("customer", "approve", "globex")
    assert (missing.code, missing.err) == (1, f"error: there is no state at {cli.state} (hint: apply the manifest first: a new customer is created pending)\n")
    apply_ok(cli, manifest)
    backend = open_backend(str(cli.state))
    from datetime import datetime, timezone

    with backend.lock(operation="apply", actor="carol@acme.example", timeout=0, now=datetime(2026, 11, 23, 9, tzinfo=timezone.utc)):
        locked = cli("customer", "revoke", "globex", "--as", "nadia@globex.example")
    assert locked.code == 1
    assert locked.err.startswith("error: state is locked by carol@acme.example (pid ")
    assert locked.err.endswith(", operation apply, since 2026-11-23T09:00:00Z) (hint: wait for it to finish, or retry with --lock-timeout SECONDS)\n")
    assert cli.resources()["customer/globex"]["status"]["relationship"] == "pending"


def test_a_poc_prospect_cannot_be_pending(cli: Cli, tmp_path: Path) -> None:
    from mssp_fixtures import PARTNER
    from plan_helpers import write_manifest

    poc = """\
customers:
  - id: initech
    name: Initech
    region: eu
    poc: {products: [InsightIDR], first_user: alice@acme.example, expires: 2027-02-28}
"""
    m = write_manifest(tmp_path / "poc", PARTNER, poc)
    apply_ok(cli, m)
    assert cli.resources()["customer/initech"]["status"] == {"protect": False, "relationship": "approved"}
    assert cli("customer", "approve", "initech").out == "Customer initech has already approved the partner: nothing to do.\n"
