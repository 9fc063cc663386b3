"""POCs (SPEC section 4): prospects created approved with their first user, license expiry, the request email.

The emails are golden files under ``tests/golden/poc/``; regenerate them on
purpose with ``ACCESSPLAN_UPDATE_GOLDEN=1 pytest tests/test_poc.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mssp_fixtures import GLOBEX, GRANTS, PARTNER, T0, apply_ok, bootstrap, changes, cli, manifest, plan_json  # noqa: F401
from plan_helpers import Cli, write_manifest

GOLDEN = Path(__file__).parent / "golden" / "poc"

INITECH = """\
customers:
  - id: initech
    name: Initech
    region: eu
    poc:
      products: [InsightIDR, InsightConnect]
      first_user: alice@acme.example
      expires: 2027-02-28
"""
LICENSE = """\
    poc_licenses:
      - {product: InsightConnect, product_admin: dave@acme.example, expires: 2026-11-30}
"""
GLOBEX_POC = GLOBEX.replace("    users:\n", LICENSE + "    users:\n", 1)
DAVE = "assignment/globex/dave@acme.example"
DAY_BEFORE = "2026-11-30T12:00:00Z"  # the license's last day
DAY_AFTER = "2026-12-01T09:00:00Z"  # it has expired


def test_a_poc_prospect_is_created_approved_with_its_first_user_as_platform_admin(cli: Cli, tmp_path: Path) -> None:
    m = write_manifest(tmp_path / "poc", PARTNER, INITECH)
    plan = plan_json(cli, m)
    initech = [c for c in plan["changes"] if "initech" in c["address"]]
    assert [(c["action"], c["address"], c["reason"]) for c in initech] == [
        ("create", "customer/initech", "new"),
        ("create", "assignment/initech/alice@acme.example", "new"),
    ]
    assert initech[1]["after"] == {"expiry": "permanent", "logs": {"restrict": [], "select": []}, "platform_admin": True, "products": [], "roles": []}
    assert [(e["kind"], e["deferred"]) for e in plan["escalations"] if e["customer"] == "initech"] == [("platform_admin", False), ("new_access", False)]
    apply_ok(cli, m, "--as", "alice@acme.example")
    resources = cli.resources()
    assert resources["customer/initech"]["status"] == {"protect": False, "relationship": "approved"}
    assert resources["customer/initech"]["spec"]["licensed"] == ["InsightConnect", "InsightIDR"]
    assert resources["assignment/initech/alice@acme.example"]["status"] == {
        "change_ref": None, "expires_at": None, "granted_at": T0, "granted_by": "alice@acme.example",
    }


def test_a_poc_license_ending_soon_is_shown(cli: Cli, manifest: Path) -> None:
    write_manifest(manifest, PARTNER, GLOBEX_POC, GRANTS)
    bootstrap(cli, manifest)
    assert cli.resources()[DAVE]["spec"]["products"] == ["InsightConnect", "InsightIDR"]
    assert plan_json(cli, manifest, now="2026-11-23T09:00:00Z")["warnings"] == []
    soon = plan_json(cli, manifest, now="2026-11-25T09:00:00Z")["warnings"]
    assert soon == [{
        "address": "customer/globex",
        "kind": "license_expiring",
        "message": "POC license for InsightConnect expires on 2026-11-30 (5 days left); to ask for more time: "
                   "accessplan poc email globex InsightConnect --extend",
    }]


def test_an_expired_poc_license_takes_its_product_away_shown_as_such(cli: Cli, manifest: Path, tmp_path: Path) -> None:
    write_manifest(manifest, PARTNER, GLOBEX_POC, GRANTS)
    bootstrap(cli, manifest)
    plan = plan_json(cli, manifest, now=DAY_AFTER)
    assert changes(plan) == [("update", "customer/globex", "license_expired"), ("update", DAVE, "license_expired")]
    customer, dave = plan["changes"]
    assert (customer["removed"], customer["added"], customer["changed"]) == ({"licensed": ["InsightConnect"]}, {}, {})
    assert (dave["removed"], dave["added"], dave["changed"]) == ({"products": ["InsightConnect"], "roles": ["Administrator"]}, {}, {})
    assert plan["warnings"] == [{
        "address": "customer/globex",
        "kind": "license_expired",
        "message": "POC license for InsightConnect expired on 2026-11-30; the product is no longer licensed",
    }]
    text = cli("plan", str(manifest), now=DAY_AFTER).out
    assert (
        "  ~ update customer/globex (license_expired)\n"
        '      licensed: - "InsightConnect"\n'
        f"  ~ update {DAVE} (license_expired)\n"
        '      products: - "InsightConnect"\n'
        '      roles:    - "Administrator"\n'
    ) in text
    # the platform ends a license: no one's authority is needed (but an analyst still applies nothing)
    assert cli("apply", str(manifest), "--auto-approve", "--as", "bob@acme.example", now=DAY_AFTER).code == 1
    apply_ok(cli, manifest, "--as", "dave@acme.example", now=DAY_AFTER)
    assert cli.resources()[DAVE]["spec"]["products"] == ["InsightIDR"]
    assert cli.resources()["customer/globex"]["spec"]["licensed"] == ["InsightIDR", "InsightVM"]
    again = cli("plan", str(manifest), "--detailed-exitcode", now=DAY_AFTER)
    assert again.code == 0


def test_a_saved_plan_across_a_license_expiry_is_refused(cli: Cli, manifest: Path, tmp_path: Path) -> None:
    write_manifest(manifest, PARTNER, GLOBEX_POC, GRANTS.replace("roles: [InsightIDR Viewer]", "roles: [InsightIDR Analyst]"))
    bootstrap(cli, manifest)
    saved = tmp_path / "change.plan"
    assert cli("plan", str(manifest), "--out", str(saved), now=DAY_BEFORE).code == 0
    before = cli.state_bytes()
    refused = cli("apply", str(saved), now=DAY_AFTER)
    assert (refused.code, refused.err) == (
        1,
        "error: the plan is out of date: the POC license for InsightConnect expired on 2026-11-30, after the plan was made at "
        "2026-11-30T12:00:00Z (hint: make a new plan: it removes what the license carried)\n",
    )
    assert cli.state_bytes() == before


@pytest.mark.parametrize(
    ("name", "args", "now"),
    [
        ("extend_license.txt", ("globex", "ICON", "--extend"), "2026-11-25T09:00:00Z"),
        ("purchase_license_expired.txt", ("globex", "InsightConnect", "--purchase"), DAY_AFTER),
        ("purchase_prospect.txt", ("initech", "InsightIDR", "--purchase"), "2027-02-28T23:00:00Z"),
    ],
)
def test_the_poc_email_matches_its_golden_file(cli: Cli, tmp_path: Path, name: str, args: tuple[str, ...], now: str) -> None:
    m = write_manifest(tmp_path / "m", PARTNER, GLOBEX_POC + INITECH.replace("customers:\n", ""), GRANTS)
    result = cli("poc", "email", args[0], args[1], str(m), args[2], now=now)
    assert (result.code, result.err) == (0, "")
    golden = GOLDEN / name
    if os.environ.get("ACCESSPLAN_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(result.out, encoding="utf-8")
    assert result.out == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("globex", "InsightVM", "--extend"), "error: customer 'globex' has no POC license for InsightVM (hint: its POC licenses are for InsightConnect)"),
        (("globex", "Insight", "--extend"), "error: unknown product 'Insight' (hint: did you mean 'InsightVM'?)"),
        (("globx", "ICON", "--extend"), "error: unknown customer 'globx' (hint: did you mean 'globex'?)"),
        (("globex", "ICON"), "error: say what to ask for: --extend or --purchase\n(see 'accessplan poc email --help')"),
    ],
    ids=["not-a-poc", "unknown-product", "unknown-customer", "no-request"],
)
def test_the_poc_email_refuses_what_it_cannot_ask_for(cli: Cli, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    m = write_manifest(tmp_path / "m", PARTNER, GLOBEX_POC, GRANTS)
    result = cli("poc", "email", args[0], args[1], str(m), *args[2:])
    assert (result.code, result.out, result.err) == (1, "", message + "\n")
