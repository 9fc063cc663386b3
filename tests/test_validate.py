"""`accessplan validate`: one fixture per cross-reference rule, whole output asserted.

Each fixture under ``fixtures/validate/rules/`` breaks exactly one rule of SPEC
section 2 (the base is a small valid manifest); the expected output is every
line ``validate`` prints for it, positions included.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from validate_support import FIXTURES, REPO, run

RULES: dict[str, str] = {
    "custom_role_product": (
        "rules/custom_role_product.yaml:13:14: error: custom roles are not available for InsightVM (hint: custom roles exist for InsightAppSec, InsightIDR, InsightOps)\n"
        "rules/custom_role_product.yaml: invalid, 1 error, 0 warnings (0 customers, 3 partner users, 0 assignments)\n"
    ),
    "custom_role_unlicensed": (
        "rules/custom_role_unlicensed.yaml:21:17: error: custom role 'AppSec Triage' is for InsightAppSec, which customer 'globex' does not license (hint: use a custom role only in accounts licensing its product)\n"
        "rules/custom_role_unlicensed.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "customer_is_partner_id": (
        "rules/customer_is_partner_id.yaml:12:9: error: customer id 'acme-mssp' is the partner's id (at rules/customer_is_partner_id.yaml:3) (hint: give the customer an id of its own)\n"
        "rules/customer_is_partner_id.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "distribution_list_admin": (
        "rules/distribution_list_admin.yaml:21:25: error: distribution list 'soc@globex.example' cannot be a platform administrator (hint: a distribution list stays read-only; remove platform_admin)\n"
        "rules/distribution_list_admin.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "distribution_list_grant": (
        "rules/distribution_list_grant.yaml:17:31: error: grant makes distribution list 'reports@acme.example' a platform administrator in customer 'globex' (hint: a distribution list stays read-only; give it a grant without platform_admin)\n"
        "rules/distribution_list_grant.yaml: invalid, 1 error, 0 warnings (1 customer, 4 partner users, 2 assignments)\n"
    ),
    "duplicate_customer": (
        "rules/duplicate_customer.yaml:15:5: error: customer 'globex' is declared twice (first at rules/duplicate_customer.yaml:12) (hint: customer ids are unique; remove or rename one)\n"
        "rules/duplicate_customer.yaml: invalid, 1 error, 0 warnings (2 customers, 3 partner users, 0 assignments)\n"
    ),
    "duplicate_group": (
        "rules/duplicate_group.yaml:17:9: error: group 'SOC' is declared twice in customer 'globex' (first at rules/duplicate_group.yaml:16) (hint: group names are unique within an account; merge or rename one)\n"
        "rules/duplicate_group.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "duplicate_log_name": (
        "rules/duplicate_log_name.yaml:18:17: error: log 'Firewall' has the name of a log set in customer 'globex' (first at rules/duplicate_log_name.yaml:16) (hint: logs and log sets share one name space per account; rename one)\n"
        "rules/duplicate_log_name.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "duplicate_role": (
        "rules/duplicate_role.yaml:14:5: error: custom role 'Tier 1' is declared twice (first at rules/duplicate_role.yaml:12) (hint: custom role names are unique; merge or rename one)\n"
        "rules/duplicate_role.yaml: invalid, 1 error, 0 warnings (0 customers, 3 partner users, 0 assignments)\n"
    ),
    "duplicate_user": (
        "rules/duplicate_user.yaml:17:9: error: user 'nadia@globex.example' is declared twice in customer 'globex' (first at rules/duplicate_user.yaml:16) (hint: declare each user once per account (emails are compared lower-cased))\n"
        "rules/duplicate_user.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "except_not_selected": (
        "rules/except_not_selected.yaml:23:24: warning: except_customers names 'initech', which this grant does not select (hint: remove it from except_customers)\n"
        "rules/except_not_selected.yaml: valid, 0 errors, 1 warning (2 customers, 3 partner users, 1 assignment)\n"
    ),
    "extends_other_product": (
        "rules/extends_other_product.yaml:14:14: error: managed role 'InsightIDR Viewer' is not for InsightAppSec (hint: managed roles for InsightAppSec: App Owner, InsightAppSec Admin, InsightAppSec ReadOnly, InsightAppSec ReadWrite, Scan Manager, Vulnerability Remediator)\n"
        "rules/extends_other_product.yaml: invalid, 1 error, 0 warnings (0 customers, 3 partner users, 0 assignments)\n"
    ),
    "extends_unknown": (
        "rules/extends_unknown.yaml:14:14: error: unknown managed role 'InsightIDR Veiwer' (hint: did you mean 'InsightIDR Viewer'?)\n"
        "rules/extends_unknown.yaml: invalid, 1 error, 0 warnings (0 customers, 3 partner users, 0 assignments)\n"
    ),
    "few_partner_admins": (
        "rules/few_partner_admins.yaml:3:3: warning: the partner has only one Partner Platform Administrator ('alice@acme.example') (hint: appoint at least two (platform_admin: true), so that someone can always manage customer access)\n"
        "rules/few_partner_admins.yaml: valid, 0 errors, 1 warning (0 customers, 2 partner users, 0 assignments)\n"
    ),
    "grant_unknown_log": (
        "rules/grant_unknown_log.yaml:30:16: error: no log or log set 'Endpoints' in customer 'umbrella' (hint: a grant's log rules must name logs or log sets of every customer it reaches)\n"
        "rules/grant_unknown_log.yaml: invalid, 1 error, 0 warnings (2 customers, 3 partner users, 2 assignments)\n"
    ),
    "grant_unlicensed_product": (
        "rules/grant_unlicensed_product.yaml:24:16: error: InsightIDR is not licensed in customers 'initech' and 'umbrella' (hint: a grant gives its products in every customer it reaches; narrow the grant or license the product)\n"
        "rules/grant_unlicensed_product.yaml: invalid, 1 error, 0 warnings (3 customers, 3 partner users, 3 assignments)\n"
    ),
    "level_not_allowed": (
        "rules/level_not_allowed.yaml:15:18: error: Collector cannot be set to View and Change in InsightIDR (hint: allowed levels: View Only, Administer)\n"
        "rules/level_not_allowed.yaml: invalid, 1 error, 0 warnings (0 customers, 3 partner users, 0 assignments)\n"
    ),
    "log_rule_partner_user": (
        "rules/log_rule_partner_user.yaml:22:9: error: partner user 'carol@acme.example' has log rules in customer 'globex' but no assignment to it (hint: add a grant giving carol@acme.example access to globex)\n"
        "rules/log_rule_partner_user.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "log_rules_default_all": (
        "rules/log_rules_default_all.yaml:21:9: error: log rules need data_access.default_all_logs: false in customer 'globex' (hint: until it is false every user of the account sees every log; set it in the account's data_access)\n"
        "rules/log_rules_default_all.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "logs_unlicensed": (
        "rules/logs_unlicensed.yaml:15:5: error: customer 'vandelay' licenses no product with logs, so it cannot have log sets (hint: logs exist only in accounts licensing InsightIDR or InsightOps)\n"
        "rules/logs_unlicensed.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "member_without_assignment": (
        "rules/member_without_assignment.yaml:17:19: error: partner user 'carol@acme.example' is a member of group 'SOC' but has no assignment to customer 'globex' (hint: add a grant giving carol@acme.example access to globex (a quick-add grant is enough))\n"
        "rules/member_without_assignment.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "no_license": (
        "rules/no_license.yaml:12:5: error: customer 'globex' licenses no product (hint: list its 'products', or give it a 'poc' or 'poc_licenses')\n"
        "rules/no_license.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "overlap_admin": (
        "rules/overlap_admin.yaml:22:5: error: grant gives bob@acme.example on globex platform_admin false, but the grant at rules/overlap_admin.yaml:19 gives true; 1 more user/customer pair overlaps the same way (hint: where grants overlap, explicit platform_admin values must agree; drop it from one grant or make them equal)\n"
        "rules/overlap_admin.yaml: invalid, 1 error, 0 warnings (2 customers, 3 partner users, 2 assignments)\n"
    ),
    "overlap_expiry": (
        "rules/overlap_expiry.yaml:22:5: error: grant gives bob@acme.example on globex expiry 3d, but the grant at rules/overlap_expiry.yaml:16 gives 48h (hint: where grants overlap, explicit expiries must agree (48h equals 2d); drop duration/until from one grant or make them equal)\n"
        "rules/overlap_expiry.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 1 assignment)\n"
    ),
    "overlap_poc": (
        "rules/overlap_poc.yaml:17:19: error: the POC gives its first user bob@acme.example on initech platform_admin true, but the grant at rules/overlap_poc.yaml:20 gives false (hint: where grants overlap, explicit platform_admin values must agree; drop it from one grant or make them equal)\n"
        "rules/overlap_poc.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 1 assignment)\n"
    ),
    "poc_admin_without_assignment": (
        "rules/poc_admin_without_assignment.yaml:17:24: error: product administrator 'carol@acme.example' has no assignment to customer 'globex' (hint: add a grant giving carol@acme.example access to globex (a quick-add grant is enough))\n"
        "rules/poc_admin_without_assignment.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "poc_first_user": (
        "rules/poc_first_user.yaml:17:19: error: unknown partner user 'alcie@acme.example' (hint: did you mean 'alice@acme.example'?)\n"
        "rules/poc_first_user.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 1 assignment)\n"
    ),
    "poc_license_owned": (
        "rules/poc_license_owned.yaml:16:18: error: customer 'globex' already licenses InsightIDR (hint: a POC license is for a product the customer does not have yet; remove it)\n"
        "rules/poc_license_owned.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 1 assignment)\n"
    ),
    "poc_product": (
        "rules/poc_product.yaml:16:30: error: InsightVM is not available on a POC (hint: POCs exist for InsightConnect, InsightIDR)\n"
        "rules/poc_product.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 1 assignment)\n"
    ),
    "poc_region": (
        "rules/poc_region.yaml:12:5: error: POC prospect 'initech' has no region (hint: add 'region': the partner creates the account, in the data storage region it chooses)\n"
        "rules/poc_region.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 1 assignment)\n"
    ),
    "policy_admin_customers": (
        "rules/policy_admin_customers.yaml:25:13: error: bob@acme.example is platform admin in 3 customers, more than policy max_admin_customers_per_user (2) (hint: narrow the grants that make this user an administrator)\n"
        "rules/policy_admin_customers.yaml: invalid, 1 error, 0 warnings (3 customers, 3 partner users, 3 assignments)\n"
    ),
    "policy_admin_duration": (
        "rules/policy_admin_duration.yaml:19:15: error: grant gives platform admin for 31d, longer than policy max_admin_duration (30d) (hint: shorten the duration)\n"
        "rules/policy_admin_duration.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 2 assignments)\n"
    ),
    "policy_admin_until": (
        "rules/policy_admin_until.yaml:19:12: error: grant gives platform admin until 2027-01-31T00:00:00Z, more than policy max_admin_duration (30d) from now (hint: move 'until' closer, or use a duration (it counts from the apply that creates the assignment))\n"
        "rules/policy_admin_until.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 2 assignments)\n"
    ),
    "policy_min_admins": (
        "rules/policy_min_admins.yaml:15:5: error: customer 'initech' has 0 platform-admin assignments, fewer than policy min_platform_admins_per_customer (1) (hint: grant platform_admin: true to more partner users on initech)\n"
        "rules/policy_min_admins.yaml: invalid, 1 error, 0 warnings (2 customers, 3 partner users, 1 assignment)\n"
    ),
    "policy_permanent_admin": (
        "rules/policy_permanent_admin.yaml:19:5: error: grant makes alice@acme.example a permanent platform admin in customers 'globex' and 'initech' (and 2 more assignments), which policy forbid_permanent_platform_admin forbids (hint: give the grant a duration or an until)\n"
        "rules/policy_permanent_admin.yaml: invalid, 1 error, 0 warnings (2 customers, 3 partner users, 6 assignments)\n"
    ),
    "role_named_managed": (
        "rules/role_named_managed.yaml:12:11: error: custom role 'InsightIDR Admin' has the name of a managed role (hint: choose another name; to start from the managed role, use 'extends')\n"
        "rules/role_named_managed.yaml: invalid, 1 error, 0 warnings (0 customers, 3 partner users, 0 assignments)\n"
    ),
    "role_products_from_other_grant": (
        "rules/role_products_from_other_grant.yaml: valid, 0 errors, 0 warnings (1 customer, 3 partner users, 1 assignment)\n"
    ),
    "unknown_customer": (
        "rules/unknown_customer.yaml:17:17: error: unknown customer 'globx' (hint: did you mean 'globex'?)\n"
        "rules/unknown_customer.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "unknown_except_customer": (
        "rules/unknown_except_customer.yaml:18:24: error: unknown customer 'initech' (hint: declare the customer under customers)\n"
        "rules/unknown_except_customer.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 1 assignment)\n"
    ),
    "unknown_feature": (
        "rules/unknown_feature.yaml:15:7: error: 'Colector' is not a feature of InsightIDR (hint: did you mean 'Collector'?)\n"
        "rules/unknown_feature.yaml: invalid, 1 error, 0 warnings (0 customers, 3 partner users, 0 assignments)\n"
    ),
    "unknown_grant_user": (
        "rules/unknown_grant_user.yaml:16:13: error: unknown partner user 'bob@acme.exmaple' (hint: did you mean 'bob@acme.example'?)\n"
        "rules/unknown_grant_user.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 1 assignment)\n"
    ),
    "unknown_log": (
        "rules/unknown_log.yaml:22:20: error: no log or log set 'Firewal' in customer 'globex' (hint: did you mean 'Firewall'?)\n"
        "rules/unknown_log.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "unknown_member": (
        "rules/unknown_member.yaml:17:19: error: unknown user 'bbo@acme.example': neither a user of customer 'globex' nor a partner user (hint: did you mean 'bob@acme.example'?)\n"
        "rules/unknown_member.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "unknown_role": (
        "rules/unknown_role.yaml:19:32: error: unknown role 'InsightIDR Analsyt' (hint: did you mean 'InsightIDR Analyst'?)\n"
        "rules/unknown_role.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 1 assignment)\n"
    ),
    "unlicensed_product": (
        "rules/unlicensed_product.yaml:17:20: error: InsightAppSec is not licensed in customer 'globex' (hint: customer 'globex' licenses InsightIDR, InsightVM)\n"
        "rules/unlicensed_product.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "unsuitable_role_grant": (
        "rules/unsuitable_role_grant.yaml:22:13: error: role 'InsightIDR Viewer' is suitable for none of the products assigned beside it (InsightVM) for bob@acme.example in customer 'globex' and 3 more assignments (hint: 'InsightIDR Viewer' is for InsightIDR; assign one of them beside it, or choose a role for the products assigned)\n"
        "rules/unsuitable_role_grant.yaml: invalid, 1 error, 0 warnings (2 customers, 3 partner users, 4 assignments)\n"
    ),
    "unsuitable_role_user": (
        "rules/unsuitable_role_user.yaml:21:36: error: role 'Administrator' is suitable for none of the products assigned beside it (InsightIDR) (hint: 'Administrator' is for InsightVM, InsightConnect, tCell, Rapid7 Services; assign one of them beside it, or choose a role for the products assigned)\n"
        "rules/unsuitable_role_user.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 0 assignments)\n"
    ),
    "valid": (
        "rules/valid.yaml: valid, 0 errors, 0 warnings (1 customer, 3 partner users, 1 assignment)\n"
    ),
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule(name: str) -> None:
    result = run("validate", f"rules/{name}.yaml")
    assert result.out == RULES[name]
    assert result.err == ""
    invalid = ": invalid, " in RULES[name]
    assert result.code == (1 if invalid else 0)


def test_problems_across_files_are_all_reported_with_their_own_positions() -> None:
    result = run("validate", "rules/multi")
    assert result.out == (
        "rules/multi/customers/globex.yaml:9:19: error: unknown user 'carol@acme.example': neither a user of "
        "customer 'globex' nor a partner user (hint: declare the user in the account's users or under partner.users)\n"
        "rules/multi/grants.yaml:8:5: error: grant gives bob@acme.example on globex platform_admin false, but the "
        "grant at rules/multi/grants.yaml:2 gives true (hint: where grants overlap, explicit platform_admin values "
        "must agree; drop it from one grant or make them equal)\n"
        "rules/multi/grants.yaml:9:25: error: unknown customer 'initech' (hint: declare the customer under customers)\n"
        "rules/multi/partner.yaml:4:3: warning: the partner has only one Partner Platform Administrator "
        "('alice@acme.example') (hint: appoint at least two (platform_admin: true), so that someone can always "
        "manage customer access)\n"
        "rules/multi: invalid, 3 errors, 1 warning (1 customer, 2 partner users, 1 assignment)\n"
    )
    assert result.code == 1


@pytest.mark.parametrize(
    ("name", "line"),
    [
        (
            "except_not_selected",
            "rules/except_not_selected.yaml:23:24: error: except_customers names 'initech', which this grant does "
            "not select (hint: remove it from except_customers)\n",
        ),
        (
            "few_partner_admins",
            "rules/few_partner_admins.yaml:3:3: error: the partner has only one Partner Platform Administrator "
            "('alice@acme.example') (hint: appoint at least two (platform_admin: true), so that someone can always "
            "manage customer access)\n",
        ),
    ],
)
def test_strict_turns_warnings_into_errors(name: str, line: str) -> None:
    relaxed = run("validate", f"rules/{name}.yaml")
    assert relaxed.code == 0
    assert relaxed.out.replace(": warning: ", ": error: ").splitlines()[0] + "\n" == line
    strict = run("validate", "--strict", f"rules/{name}.yaml")
    summary = RULES[name].splitlines()[-1].replace("valid, 0 errors, 1 warning", "invalid, 1 error, 0 warnings")
    assert strict.out == line + summary + "\n"
    assert strict.code == 1


def test_each_path_is_its_own_manifest_and_any_invalid_one_fails() -> None:
    result = run("validate", "rules/valid.yaml", "rules/no_license.yaml")
    assert result.out == RULES["valid"] + RULES["no_license"]
    assert result.code == 1


def test_json_format() -> None:
    result = run("validate", "--format", "json", "rules/except_not_selected.yaml", "input/partner_missing.yaml")
    expected = {
        "format_version": 1,
        "manifests": [
            {
                "diagnostics": [
                    {
                        "code": "except-not-selected",
                        "column": 24,
                        "file": "rules/except_not_selected.yaml",
                        "hint": "remove it from except_customers",
                        "line": 23,
                        "message": "except_customers names 'initech', which this grant does not select",
                        "severity": "warning",
                    }
                ],
                "path": "rules/except_not_selected.yaml",
                "summary": {"assignments": 1, "customers": 2, "errors": 0, "files": 1, "partner_users": 3, "warnings": 1},
                "valid": True,
            },
            {
                "diagnostics": [
                    {
                        "code": "schema",
                        "column": 1,
                        "file": "input/partner_missing.yaml",
                        "hint": "declare the partner (the MSSP's own account) exactly once",
                        "line": 1,
                        "message": "no 'partner' in the manifest",
                        "severity": "error",
                    }
                ],
                "path": "input/partner_missing.yaml",
                "summary": {"assignments": None, "customers": None, "errors": 1, "files": None, "partner_users": None, "warnings": 0},
                "valid": False,
            },
        ],
        "valid": False,
    }
    assert result.out == json.dumps(expected, indent=2, sort_keys=True) + "\n"
    assert result.code == 1


def test_github_format_escapes_workflow_command_characters() -> None:
    result = run("validate", "--format", "github", "format/odd_names.yaml")
    assert result.out == (
        "::error file=format/odd_names.yaml,line=19,col=32,title=accessplan::unknown role '100%25 admin,%0Areally' "
        "(hint: use a managed role of the catalog or a custom role declared under 'roles')\n"
        "format/odd_names.yaml: invalid, 1 error, 0 warnings (1 customer, 3 partner users, 1 assignment)\n"
    )
    assert result.code == 1


def test_text_format_keeps_a_newline_in_a_name_on_one_line() -> None:
    result = run("validate", "format/odd_names.yaml")
    assert result.out.splitlines()[0] == (
        "format/odd_names.yaml:19:32: error: unknown role '100% admin,\\nreally' "
        "(hint: use a managed role of the catalog or a custom role declared under 'roles')"
    )


def test_github_annotation_properties_are_escaped() -> None:
    from accessplan.cli.validate_cmd import github_annotation
    from accessplan.errors import Diagnostic, Position

    d = Diagnostic("warning", Position("odd,name:50%.yaml", 3, 7), "a\r\nb", None, "x")
    assert github_annotation(d) == "::warning file=odd%2Cname%3A50%25.yaml,line=3,col=7,title=accessplan::a%0Ab"
    d = Diagnostic("error", Position("gone.yaml"), "no such file or directory", "check the path", "file")
    assert github_annotation(d) == "::error file=gone.yaml,title=accessplan::no such file or directory (hint: check the path)"


def test_no_path_is_a_usage_error() -> None:
    result = run("validate")
    assert result.code == 1
    assert result.out == ""
    assert result.err == "error: Missing argument 'PATH...'.\n(see 'accessplan validate --help')\n"


def test_the_example_manifest_is_valid_without_warnings() -> None:
    result = run("validate", "--strict", "examples/mssp", cwd=REPO)
    assert result.code == 0, result.out
    lines = result.out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("examples/mssp: valid, 0 errors, 0 warnings (")


def test_state_diagnostics_are_merged_in_reading_order() -> None:
    from accessplan.errors import Diagnostic, Position
    from accessplan.loader import load_manifest
    from accessplan.resolve import resolve
    from accessplan.validate import validate_manifest

    manifest = load_manifest(FIXTURES / "rules" / "valid.yaml")
    stale = Diagnostic("warning", Position("state.json"), "the grant's 48h have passed", None, "stale-expiry")
    assert validate_manifest(manifest, resolve(manifest), state_diagnostics=[stale]) == [stale]


def test_until_is_judged_against_now_only_when_now_is_given() -> None:
    from datetime import datetime

    from accessplan.loader import load_manifest
    from accessplan.resolve import resolve
    from accessplan.validate import validate_manifest

    manifest = load_manifest(FIXTURES / "rules" / "policy_admin_until.yaml")
    resolved = resolve(manifest)
    assert validate_manifest(manifest, resolved) == []
    later = validate_manifest(manifest, resolved, datetime(2027, 1, 15, tzinfo=UTC))
    assert later == []  # 16 days before the until: inside the 30d policy
    now = validate_manifest(manifest, resolved, datetime(2026, 11, 23, tzinfo=UTC))
    assert [d.code for d in now] == ["policy-admin-duration"]


@pytest.mark.parametrize(
    ("names", "phrase"),
    [
        (["globex"], "customer 'globex'"),
        (["initech", "globex"], "customers 'globex' and 'initech'"),
        (["c", "a", "b"], "customers 'a', 'b' and 'c'"),
        ([f"c{i:04}" for i in range(2000)], "customers 'c0000', 'c0001', 'c0002' and 1,997 more"),
    ],
)
def test_long_customer_lists_are_cut_short(names: list[str], phrase: str) -> None:
    from accessplan.checks.context import customers_phrase

    assert customers_phrase(names) == phrase


# --- no input makes validate crash ------------------------------------------------------



_SEEDS = [
    (FIXTURES / "rules" / name).read_text(encoding="utf-8")
    for name in ("valid.yaml", "grant_unknown_log.yaml", "overlap_poc.yaml", "policy_permanent_admin.yaml", "unsuitable_role_user.yaml")
]
_YAML_BITS = [":", "-", " ", "  ", "\n", "[", "]", "{", "}", ",", "&a", "*a", "!", "!!str", "'", '"', "#", "%", "|", ">", "?", "\t", "~", "null", "yes", "\x00", "\xe9"]


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    """A valid manifest with a few lines dropped, repeated or cut, and YAML syntax sprinkled in."""
    lines = draw(st.sampled_from(_SEEDS)).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "repeat", "cut", "insert", "dedent"]))
        if action == "drop" and len(lines) > 1:
            del lines[i]
        elif action == "repeat":
            lines.insert(i, lines[i])
        elif action == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))] + "\n"
        elif action == "insert":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(_YAML_BITS)) + lines[i][at:]
        else:
            lines[i] = lines[i].lstrip(" ")
    return "".join(lines).encode("utf-8", "surrogatepass")


def _never_crashes(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "m.yaml").write_bytes(content)
        for fmt in ("text", "json"):
            result = run("validate", "--format", fmt, "m.yaml", cwd=Path(tmp))
            assert result.code in (0, 1), result.err
            assert "unexpected error" not in result.err
            assert result.out.strip(), "validate printed nothing"


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(content=_mutated())
def test_validate_never_crashes_on_a_mutated_manifest(content: bytes) -> None:
    _never_crashes(content)


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(content=st.binary(max_size=400) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_validate_never_crashes_on_random_input(content: bytes) -> None:
    _never_crashes(content)


def _example_document() -> dict[str, object]:
    """The example manifest as one document (every file's top-level lists joined)."""
    from accessplan import yamlsafe

    merged: dict[str, object] = {}
    for path in sorted((REPO / "examples" / "mssp").rglob("*.yaml")):
        data, _ = yamlsafe.load(path.read_text(encoding="utf-8"))
        for key, value in data.items():
            if isinstance(value, list):
                merged.setdefault(key, [])
                merged[key].extend(value)  # type: ignore[attr-defined]
            else:
                merged[key] = value
    return merged


def _leaves(node: object, path: tuple[object, ...] = ()) -> list[tuple[tuple[object, ...], object]]:
    if isinstance(node, dict):
        return [leaf for k, v in node.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [(path, node)] + [leaf for i, v in enumerate(node) for leaf in _leaves(v, (*path, i))]
    return [(path, node)]


_EXAMPLE = _example_document()
_EXAMPLE_LEAVES = _leaves(_EXAMPLE)
_STRINGS = sorted({v for _, v in _EXAMPLE_LEAVES if isinstance(v, str)})


@st.composite
def _rewired(draw: st.DrawFn) -> bytes:
    """The example with references rewired: strings swapped for others of the example,
    flags flipped, list items dropped or repeated. Mostly still well-typed, so the
    cross-reference rules (not the loader) meet odd combinations."""
    document = json.loads(json.dumps(_EXAMPLE))
    for _ in range(draw(st.integers(1, 6))):
        path, _ = draw(st.sampled_from(_EXAMPLE_LEAVES))
        parent: Any = document
        try:
            for part in path[:-1]:
                parent = parent[part]
            current: Any = parent[path[-1]] if path else document
        except (KeyError, IndexError, TypeError):
            continue
        if isinstance(current, list) and current:
            item = draw(st.integers(0, len(current) - 1))
            if draw(st.booleans()):
                current.pop(item)
            else:
                current.append(current[item])
        elif isinstance(current, bool):
            parent[path[-1]] = not current
        elif isinstance(current, str):
            parent[path[-1]] = draw(st.sampled_from(_STRINGS))
    return json.dumps(document, indent=1).encode()


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(content=_rewired())
def test_validate_never_crashes_on_a_rewired_manifest(content: bytes) -> None:
    _never_crashes(content)


def test_manifest_directories_skip_dot_entries_and_symlinks_and_report_unreadable_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from accessplan import loader

    example = REPO / "examples" / "mssp"
    root = tmp_path / "org"
    (root / "customers" / "more").mkdir(parents=True)
    (root / ".drafts").mkdir()
    for f in sorted(example.rglob("*.yaml")):
        target = root / f.relative_to(example)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (root / ".drafts" / "broken.yaml").write_text("not: [valid\n", encoding="utf-8")
    (root / "customers" / "link.yaml").symlink_to(root / "customers" / "more")  # skipped like any symlink
    (root / "customers" / "more" / "notes.txt").write_text("not a manifest\n", encoding="utf-8")
    found = [p.relative_to(root).as_posix() for p in loader.discover(root)]
    assert found == sorted(found) and found
    assert not any(p.startswith(".drafts") or p.endswith(("link.yaml", "notes.txt")) for p in found)
    assert run("validate", "org", cwd=tmp_path).code == 0

    real = os.scandir

    def refuse(path: Any) -> Any:
        if str(path).endswith("more"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(loader.os, "scandir", refuse)
    result = run("validate", "org", cwd=tmp_path)
    assert result.code == 1
    assert "org/customers/more: error: cannot read the directory: Permission denied (hint: check the directory's permissions)" in result.out
