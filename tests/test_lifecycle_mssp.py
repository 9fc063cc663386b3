"""The MSSP lifecycle end to end: rename in place, a deleted user's cascade, approval during an edit, the review."""

from __future__ import annotations

from pathlib import Path

from mssp_fixtures import BOB, GLOBEX, GRANTS, PARTNER, T0, T1, T2, apply_ok, bootstrap, changes, cli, manifest, plan_json  # noqa: F401
from plan_helpers import Cli, write_manifest

BOB_GRANT = (
    "  - users: [bob@acme.example]\n    customers: [globex]\n    products: [InsightIDR]\n    roles: [InsightIDR Viewer]\n"
    "    logs: {select: [Firewall]}\n"
)
UMBRELLA = """\
  - id: umbrella
    name: Umbrella Health
    region: us
    products: [InsightIDR]
    groups:
      - name: Night Shift
        products: [InsightIDR]
        roles: [InsightIDR Viewer]
        members: [bob@acme.example]
"""
BOB_AT_UMBRELLA = "  - users: [bob@acme.example]\n    customers: [umbrella]\n    products: [InsightIDR]\n    roles: [InsightIDR Viewer]\n"


def test_renaming_a_customer_is_an_update_in_place(cli: Cli, manifest: Path) -> None:
    bootstrap(cli, manifest)
    write_manifest(manifest, PARTNER, GLOBEX.replace("name: Globex\n", "name: Globex Corporation\n"), GRANTS)
    plan = plan_json(cli, manifest, now=T1)
    assert changes(plan) == [("update", "customer/globex", "changed")]
    assert (plan["changes"][0]["changed"], plan["changes"][0]["added"], plan["changes"][0]["removed"]) == ({"name": "Globex Corporation"}, {}, {})
    assert plan["escalations"] == []
    text = cli("plan", str(manifest), now=T1).out
    assert '  ~ update customer/globex (changed)\n      name: "Globex" -> "Globex Corporation"\n' in text
    assert text.splitlines()[-1] == "Plan: 0 to add, 1 to change, 0 to destroy, 0 deferred."
    before = {a: r for a, r in cli.resources().items() if a != "customer/globex"}
    apply_ok(cli, manifest, "--as", "carol@acme.example", now=T1)
    after = cli.resources()
    assert after["customer/globex"]["spec"]["name"] == "Globex Corporation"
    assert after["customer/globex"]["status"]["relationship"] == "approved"  # same id, same relationship
    assert {a: r for a, r in after.items() if a != "customer/globex"} == before  # nothing else touched


def test_deleting_a_partner_user_cascades_to_assignments_memberships_and_log_rules(cli: Cli, manifest: Path) -> None:
    bootstrap(cli, manifest)
    assert cli.resources()[BOB]["spec"]["logs"] == {"restrict": [], "select": ["Firewall"]}
    without_bob = PARTNER.replace("    - {email: bob@acme.example, first_name: Bob, last_name: Okafor, timezone: UTC}\n", "")
    write_manifest(manifest, without_bob, GLOBEX.replace("members: [bob@acme.example]", "members: []"), GRANTS.replace(BOB_GRANT, ""))
    plan = plan_json(cli, manifest, now=T1)
    assert changes(plan) == [
        ("update", "group/globex/SOC", "user_removed"),
        ("delete", BOB, "user_removed"),
        ("delete", "user/acme/bob@acme.example", "removed_from_manifest"),
    ]
    assert plan["changes"][0]["removed"] == {"members": ["bob@acme.example"]}
    assert plan["changes"][1]["before"]["logs"] == {"restrict": [], "select": ["Firewall"]}  # his log rules go with it
    text = cli("plan", str(manifest), now=T1).out
    assert (
        "  ~ update group/globex/SOC (user_removed)\n"
        '      members: - "bob@acme.example"\n'
        f"  - destroy {BOB} (user_removed)\n"
        "  - destroy user/acme/bob@acme.example (removed_from_manifest)\n"
    ) in text
    refused = cli("apply", str(manifest), "--auto-approve", "--as", "erin@acme.example", now=T1)
    assert refused.err.splitlines()[-1].startswith(
        "error: erin@acme.example may not apply this plan: update group/globex/SOC (removing a deleted partner user's access) "
        "needs a Partner Platform Administrator; erin@acme.example is only a platform admin of customer 'globex' (and 2 more changes"
    )
    apply_ok(cli, manifest, "--as", "alice@acme.example", now=T1)
    assert [a for a in cli.resources() if "bob@" in a] == []
    assert cli.resources()["group/globex/SOC"]["spec"]["members"] == []


def test_a_customer_approves_while_a_grant_is_edited(cli: Cli, manifest: Path) -> None:
    bootstrap(cli, manifest)  # globex live
    write_manifest(manifest, PARTNER, GLOBEX + UMBRELLA, GRANTS + BOB_AT_UMBRELLA)
    apply_ok(cli, manifest, "--as", "alice@acme.example", now=T1)  # umbrella is new: pending, its grants deferred
    assert cli.resources()["customer/umbrella"]["status"]["relationship"] == "pending"
    # the customer approves, while bob's grant at globex is edited (Viewer -> Analyst)
    assert cli("customer", "approve", "umbrella", "--as", "it@umbrella.example", now=T2).code == 0
    write_manifest(manifest, PARTNER, GLOBEX + UMBRELLA, GRANTS.replace(BOB_GRANT, BOB_GRANT.replace("Viewer", "Analyst")) + BOB_AT_UMBRELLA)
    plan = plan_json(cli, manifest, now=T2)
    assert changes(plan) == [
        ("update", BOB, "changed"),
        ("create", "assignment/umbrella/alice@acme.example", "new"),
        ("create", "assignment/umbrella/bob@acme.example", "new"),
        ("create", "group/umbrella/Night Shift", "new"),
    ]
    assert [(e["address"], e["kind"], e["deferred"]) for e in plan["escalations"]] == [
        ("assignment/umbrella/alice@acme.example", "platform_admin", False),
        ("assignment/umbrella/alice@acme.example", "new_access", False),
        ("assignment/umbrella/bob@acme.example", "new_access", False),
    ]
    assert plan["summary"] == {"add": 3, "change": 1, "defer": 0, "destroy": 0}
    apply_ok(cli, manifest, "--as", "alice@acme.example", "--change-ref", "pr-42", now=T2)
    assert cli.resources()["assignment/umbrella/bob@acme.example"]["status"] == {
        "change_ref": "pr-42", "expires_at": None, "granted_at": T2, "granted_by": "alice@acme.example",
    }


def test_the_review_takes_provenance_and_status_from_state(cli: Cli, manifest: Path) -> None:
    one_hour = GRANTS.replace(BOB_GRANT, BOB_GRANT + "    duration: 1h\n")
    write_manifest(manifest, PARTNER, GLOBEX + UMBRELLA.replace("members: [bob@acme.example]", "members: []"), one_hour)
    apply_ok(cli, manifest, "--as", "alice@acme.example")
    assert cli("customer", "approve", "globex").code == 0
    apply_ok(cli, manifest, "--as", "alice@acme.example", "--change-ref", "c0ffee", now=T0)
    review = cli("review", str(manifest), now=T2)  # bob's hour is over; umbrella still pending
    assert review.code == 0, review.err
    assert review.out.splitlines() == [
        "customer,customer_name,user,platform_admin,products,roles,groups,expiry,granted_at,granted_by,change_ref,status",
        f"globex,Globex,alice@acme.example,true,,,,permanent,{T0},alice@acme.example,c0ffee,approved",
        f"globex,Globex,bob@acme.example,false,InsightIDR,InsightIDR Viewer; InsightIDR Viewer (via group SOC),SOC,1h,{T0},alice@acme.example,c0ffee,expired",
        f"globex,Globex,dave@acme.example,false,InsightIDR,InsightIDR Admin,,permanent,{T0},alice@acme.example,c0ffee,approved",
        f"globex,Globex,erin@acme.example,true,,,,permanent,{T0},alice@acme.example,c0ffee,approved",
        "umbrella,Umbrella Health,alice@acme.example,true,,,,permanent,,,,pending",
    ]
    assert cli("customer", "revoke", "globex", now=T2).code == 0
    assert cli.resources()[BOB]["status"]["tombstone"] == "expired"  # past its expiry: kept as the tombstone an apply would make
    rows = cli("review", str(manifest), "--format", "json", now=T2).json()["rows"]
    assert [(r["customer"], r["user"], r["status"], r["granted_at"]) for r in rows] == [
        ("globex", "alice@acme.example", "revoked", None),
        ("globex", "bob@acme.example", "revoked", T0),  # an expired tombstone stays, with its provenance
        ("globex", "dave@acme.example", "revoked", None),
        ("globex", "erin@acme.example", "revoked", None),
        ("umbrella", "alice@acme.example", "pending", None),
    ]
