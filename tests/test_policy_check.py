"""``policy`` invariants judged again on the state a plan leaves (plan warnings; validate with state)."""

from __future__ import annotations

from pathlib import Path

from mssp_fixtures import GLOBEX, GRANTS, PARTNER, T1, T2, apply_ok, bootstrap, cli, manifest, plan_json  # noqa: F401
from plan_helpers import Cli, write_manifest

from accessplan.policy_check import findings, granted_from_desired

REVOKED = (
    "customer 'globex' will keep 0 live platform-admin assignments, fewer than policy min_platform_admins_per_customer (1): "
    "the customer revoked the partner"
)
EXPIRED = (
    "customer 'globex' will keep 0 live platform-admin assignments, fewer than policy min_platform_admins_per_customer (1): "
    "the admin access of alice@acme.example has expired"
)
# alice is globex's only platform admin, for one hour
ONE_ADMIN = GRANTS.replace('    customers: "*"\n    platform_admin: true\n', '    customers: "*"\n    platform_admin: true\n    duration: 1h\n').replace(
    "  - users: [erin@acme.example]\n    customers: [globex]\n    platform_admin: true\n", "  - users: [erin@acme.example]\n    customers: [globex]\n"
)


def test_a_revocation_below_the_minimum_is_a_plan_warning_and_a_strict_validate_error(cli: Cli, manifest: Path) -> None:
    bootstrap(cli, manifest)
    assert cli("customer", "revoke", "globex", now=T1).code == 0
    plan = plan_json(cli, manifest, now=T1)
    assert plan["warnings"] == [{"address": "customer/globex", "kind": "policy", "message": REVOKED}]
    assert cli("plan", str(manifest), now=T1).out.split("Warnings:\n", 1)[1].splitlines()[0] == f"  customer/globex: {REVOKED}"
    where = f"{manifest}/manifest.yaml:16:5"
    hint = " (hint: only the customer can approve the partner again (accessplan customer approve))"
    warned = cli("validate", str(manifest), now=T1)
    assert (warned.code, warned.out.splitlines()[0]) == (0, f"{where}: warning: {REVOKED}{hint}")
    strict = cli("validate", "--strict", str(manifest), now=T1)
    assert strict.code == 1
    assert strict.out.splitlines() == [f"{where}: error: {REVOKED}{hint}", f"{manifest}: invalid, 1 error, 0 warnings (1 customer, 5 partner users, 4 assignments)"]


def test_an_expiry_below_the_minimum_is_a_plan_warning_before_and_after_it_is_applied(cli: Cli, manifest: Path) -> None:
    write_manifest(manifest, PARTNER, GLOBEX, ONE_ADMIN)
    bootstrap(cli, manifest)
    assert plan_json(cli, manifest, now="2026-11-23T09:30:00Z")["warnings"] == []  # alice's hour still runs
    plan = plan_json(cli, manifest, now=T2)
    assert ("delete", "assignment/globex/alice@acme.example", "expired") in [(c["action"], c["address"], c["reason"]) for c in plan["changes"]]
    assert [w for w in plan["warnings"] if w["kind"] == "policy"] == [{"address": "customer/globex", "kind": "policy", "message": EXPIRED}]
    apply_ok(cli, manifest, now=T2)
    after = plan_json(cli, manifest, now=T2)
    assert [w for w in after["warnings"] if w["kind"] == "policy"] == [{"address": "customer/globex", "kind": "policy", "message": EXPIRED}]
    validated = cli("validate", str(manifest), now=T2)
    assert (
        f"{manifest}/manifest.yaml:16:5: warning: {EXPIRED} (hint: grant platform_admin to another partner user there, "
        "or give the expired grant a new duration or until)"
    ) in validated.out.splitlines()


def test_pending_customers_and_manifests_without_the_policy_are_left_alone(cli: Cli, manifest: Path) -> None:
    apply_ok(cli, manifest)  # globex pending: no admin assignment is live there yet
    assert plan_json(cli, manifest)["warnings"] == []
    assert cli("validate", "--strict", str(manifest)).code == 0
    write_manifest(manifest, PARTNER.replace("policy:\n  min_platform_admins_per_customer: 1\n", ""), GLOBEX, GRANTS)
    assert cli("customer", "approve", "globex").code == 0
    assert cli("customer", "revoke", "globex").code == 0
    assert plan_json(cli, manifest)["warnings"] == []


def test_findings_follow_the_joins_rules_for_admin_assignments() -> None:
    from accessplan.model import Policy

    def admin(expiry: str) -> dict[str, object]:
        return {"expiry": expiry, "platform_admin": True}

    state = {
        "customer/globex": {"spec": {}, "status": {"relationship": "approved"}},
        "assignment/globex/a@x": {"spec": admin("1h"), "status": {"expires_at": "2026-11-23T10:00:00Z"}},
        "assignment/globex/b@x": {"spec": admin("1h"), "status": {"tombstone": "expired"}},
    }
    desired = {"customer/globex": {"poc": None}, "assignment/globex/a@x": admin("1h"), "assignment/globex/b@x": admin("1h")}
    policy = Policy(min_platform_admins_per_customer=1)
    assert findings(granted_from_desired(desired), state, policy, "2026-11-23T09:00:00Z") == []  # a@x still runs
    [found] = findings(granted_from_desired(desired), state, policy, "2026-11-23T10:00:00Z")
    assert found.message.endswith("the admin access of a@x, b@x has expired")
    renewed = {**desired, "assignment/globex/b@x": admin("2h")}  # a new duration grants b@x afresh
    assert findings(granted_from_desired(renewed), state, policy, "2026-11-23T10:00:00Z") == []
    ended = {**desired, "assignment/globex/c@x": admin("2026-11-23T09:30:00Z")}  # an until that has passed grants nothing
    assert findings(granted_from_desired(ended), state, policy, "2026-11-23T10:00:00Z")[0].message.endswith("the admin access of a@x, b@x, c@x has expired")
    new_poc = {"customer/initech": {"poc": {"products": ["InsightIDR"]}}, "assignment/initech/a@x": admin("permanent")}
    assert findings(granted_from_desired(new_poc), {}, policy, "2026-11-23T10:00:00Z") == []  # created approved, its first user live at once
    assert findings(granted_from_desired(desired), state, None, "2026-11-23T10:00:00Z") == []
