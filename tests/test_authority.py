"""Authority for ``apply --as EMAIL`` (SPEC section 4): each kind of actor, refused or allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
from mssp_fixtures import BOB, GLOBEX, GRANTS, PARTNER, T1, T2, apply_ok, bootstrap, cli, jsonl, manifest  # noqa: F401
from plan_helpers import Cli, write_manifest

HINT = " (hint: apply as someone who holds that authority (--as EMAIL), or leave the change out of the manifest)\n"
BOB_GRANT = "  - users: [bob@acme.example]\n    customers: [globex]\n    products: [InsightIDR]\n    roles: [InsightIDR Viewer]\n"
NEW_ADMIN_USER = (
    "    users:\n"
    "      - {email: nadia@globex.example, first_name: Nadia, last_name: Petrova, timezone: UTC, platform_admin: true}\n"
    "      - {email: omar@globex.example, first_name: Omar, last_name: Haddad, timezone: UTC, platform_admin: true}\n"
)

# Each case: the manifest edit, who applies it, and the whole refusal.
REFUSED = {
    "analyst": (
        (PARTNER, GLOBEX.replace("name: Globex\n", "name: Globex Corp\n"), GRANTS),
        "bob@acme.example",
        "error: bob@acme.example may not apply this plan: update customer/globex (renaming customer 'globex') needs a Partner "
        "Platform Administrator; bob@acme.example has no admin rights, and an analyst without admin rights applies nothing",
    ),
    "product-admin-lacks-product": (
        (PARTNER, GLOBEX, GRANTS.replace(BOB_GRANT, BOB_GRANT.replace("products: [InsightIDR]", "products: [InsightIDR, InsightVM]"))),
        "dave@acme.example",
        "error: dave@acme.example may not apply this plan: update assignment/globex/bob@acme.example (changing bob@acme.example's "
        "products at customer 'globex') needs a Partner Platform Administrator, a platform admin of customer 'globex' or an "
        "administrator of InsightVM there; dave@acme.example is only an administrator of InsightIDR at customer 'globex'",
    ),
    "product-admin-grants-platform-admin-to-a-customer-user": (
        (PARTNER, GLOBEX.replace(NEW_ADMIN_USER.split("      - {email: omar")[0], NEW_ADMIN_USER), GRANTS),
        "dave@acme.example",
        "error: dave@acme.example may not apply this plan: create user/globex/omar@globex.example (adding user "
        "omar@globex.example to customer 'globex') needs a Partner Platform Administrator or a platform admin of customer "
        "'globex'; dave@acme.example is only an administrator of InsightIDR at customer 'globex', and a product administrator "
        "never grants platform admin",
    ),
    "product-admin-grants-platform-admin-to-a-partner-user": (
        (PARTNER, GLOBEX, GRANTS.replace(BOB_GRANT, BOB_GRANT + "    platform_admin: true\n")),
        "dave@acme.example",
        "error: dave@acme.example may not apply this plan: update assignment/globex/bob@acme.example (making bob@acme.example "
        "a platform admin of customer 'globex') needs a Partner Platform Administrator; dave@acme.example is only an "
        "administrator of InsightIDR at customer 'globex', and a product administrator never grants platform admin",
    ),
    "customer-platform-admin-grants-access": (
        (PARTNER, GLOBEX, GRANTS + "  - users: [carol@acme.example]\n    customers: [globex]\n"),
        "erin@acme.example",
        "error: erin@acme.example may not apply this plan: create assignment/globex/carol@acme.example (granting "
        "carol@acme.example access to customer 'globex') needs a Partner Platform Administrator; erin@acme.example is only "
        "a platform admin of customer 'globex'",
    ),
    "stranger": (
        (PARTNER, GLOBEX.replace("name: Globex\n", "name: Globex Corp\n"), GRANTS),
        "zed@elsewhere.example",
        "error: zed@elsewhere.example may not apply this plan: update customer/globex (renaming customer 'globex') needs a "
        "Partner Platform Administrator; zed@elsewhere.example is neither a user nor an assignment in the state",
    ),
}


@pytest.mark.parametrize(("parts", "actor", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_refusals_name_the_change_and_the_missing_authority(cli: Cli, manifest: Path, parts: tuple[str, ...], actor: str, message: str) -> None:
    bootstrap(cli, manifest)
    write_manifest(manifest, *parts)
    before = cli.state_bytes()
    refused = cli("apply", str(manifest), "--auto-approve", "--allow-escalation", "--as", actor, now=T1)
    assert refused.code == 1
    assert refused.err.splitlines()[-1] + "\n" == message + HINT
    assert cli.state_bytes() == before
    # the same change, applied as a Partner Platform Administrator, goes through
    apply_ok(cli, manifest, "--as", "carol@acme.example", now=T1)


def test_a_product_administrator_changes_what_they_administer(cli: Cli, manifest: Path) -> None:
    bootstrap(cli, manifest)
    write_manifest(manifest, PARTNER, GLOBEX, GRANTS.replace(BOB_GRANT, BOB_GRANT.replace("InsightIDR Viewer", "InsightIDR Analyst")))
    apply_ok(cli, manifest, "--as", "dave@acme.example", now=T1)
    assert cli.resources()[BOB]["status"]["granted_by"] == "dave@acme.example"
    assert cli.resources()[BOB]["spec"]["roles"] == ["InsightIDR Analyst"]


def test_a_customer_platform_admin_changes_inside_the_customer(cli: Cli, manifest: Path) -> None:
    bootstrap(cli, manifest)
    edited = GLOBEX.replace("roles: [InsightIDR Viewer]\n        members", "roles: [InsightIDR Analyst]\n        members").replace(
        "      - {name: Firewall, logs: [fw-1, fw-2]}\n", "      - {name: Firewall, logs: [fw-1, fw-2, fw-3]}\n"
    )
    write_manifest(manifest, PARTNER, edited, GRANTS)
    apply_ok(cli, manifest, "--as", "erin@acme.example", now=T1)
    assert cli.resources()["group/globex/SOC"]["spec"]["roles"] == ["InsightIDR Analyst"]
    assert "log/globex/fw-3" in cli.resources()


def test_without_as_the_actor_is_unknown_and_nothing_is_checked(cli: Cli, manifest: Path) -> None:
    bootstrap(cli, manifest)
    write_manifest(manifest, PARTNER, GLOBEX, GRANTS.replace(BOB_GRANT, BOB_GRANT + "    platform_admin: true\n"))
    apply_ok(cli, manifest, now=T1)
    assert cli.resources()[BOB]["status"]["granted_by"] is None
    assert jsonl(cli.state / "audit.jsonl")[-1]["actor"] is None


def test_the_first_apply_takes_its_administrators_from_the_plan(cli: Cli, manifest: Path) -> None:
    refused = cli("apply", str(manifest), "--auto-approve", "--allow-escalation", "--as", "bob@acme.example")
    assert refused.code == 1
    assert refused.err.splitlines()[-1] == (
        "error: bob@acme.example may not apply this plan: create partner/acme (changing the partner account) needs a Partner "
        "Platform Administrator; bob@acme.example has no admin rights, and an analyst without admin rights applies nothing "
        "(and 6 more changes bob@acme.example may not apply)" + HINT.rstrip("\n")
    )
    assert not (cli.state / "state.json").exists()
    apply_ok(cli, manifest, "--as", "alice@acme.example")


def test_a_saved_plan_is_checked_against_its_actor(cli: Cli, manifest: Path, tmp_path: Path) -> None:
    bootstrap(cli, manifest)
    write_manifest(manifest, PARTNER, GLOBEX, GRANTS + "  - users: [carol@acme.example]\n    customers: [globex]\n")
    saved = tmp_path / "change.plan"
    assert cli("plan", str(manifest), "--out", str(saved), now=T1).code == 0
    refused = cli("apply", str(saved), "--allow-escalation", "--as", "dave@acme.example", now=T1)
    assert refused.code == 1
    assert refused.err.startswith(
        "error: dave@acme.example may not apply this plan: create assignment/globex/carol@acme.example (granting carol@acme.example access"
    )
    assert cli("apply", str(saved), "--allow-escalation", "--as", "alice@acme.example", now=T1).code == 0


def test_an_analyst_applies_nothing_not_even_an_expiry(cli: Cli, manifest: Path) -> None:
    write_manifest(manifest, PARTNER, GLOBEX, GRANTS.replace(BOB_GRANT, BOB_GRANT + "    duration: 1h\n"))
    bootstrap(cli, manifest)
    refused = cli("apply", str(manifest), "--auto-approve", "--as", "bob@acme.example", now=T2)  # only bob's expiry to apply
    assert refused.code == 1
    assert refused.err.splitlines()[-1] == (
        "error: bob@acme.example may not apply this plan: bob@acme.example has no admin rights, and an analyst without admin "
        "rights applies nothing" + HINT.rstrip("\n")
    )
    apply_ok(cli, manifest, "--as", "dave@acme.example", now=T2)  # expiry needs no particular authority
    assert cli.resources()[BOB]["status"]["tombstone"] == "expired"
