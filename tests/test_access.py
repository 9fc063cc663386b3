"""Effective access (SPEC section 5): one test per rule of the RBAC seed."""

from __future__ import annotations

from pathlib import Path

from test_access_support import build, customer

from accessplan.access import AccessModel, Conflict, RoleSource

LOGS_AB = """\
logs: [log-a, log-b]
"""


def grant(extra: str = "", user: str = "bob@acme.example") -> str:
    return f"""\
grants:
  - users: [{user}]
    customers: [globex]
{extra}"""


# --------------------------------------------------------------------------- logs: the seed's three examples


def test_seed_log_example_1_only_the_selected_log(tmp_path: Path) -> None:
    """Log A selected for the user, Log B left unchecked: only Log A."""
    org = build(tmp_path, customer(LOGS_AB) + grant("    products: [InsightIDR]\n    roles: [InsightIDR Viewer]\n    logs: {select: [log-a]}\n"))
    acc = org.access()
    assert acc.logs == frozenset({"log-a"})
    assert dict(acc.log_reasons) == {
        "log-a": "visible — selected directly",
        "log-b": "hidden — not selected, directly or by any group",
    }


def test_seed_log_example_2_group_adds_the_unchecked_log(tmp_path: Path) -> None:
    """Log A selected, Log B unchecked, but a group of the user has Log B: both."""
    groups = """\
groups:
  - name: Night Shift
    members: [bob@acme.example]
    logs: {select: [log-b]}
"""
    org = build(tmp_path, customer(LOGS_AB, groups) + grant("    products: [InsightIDR]\n    roles: [InsightIDR Viewer]\n    logs: {select: [log-a]}\n"))
    acc = org.access()
    assert acc.logs == frozenset({"log-a", "log-b"})
    assert acc.log_reasons["log-b"] == "visible — selected via group Night Shift"


def test_seed_log_example_3_restriction_overrides_the_group(tmp_path: Path) -> None:
    """Log A selected, Log B restricted, a group has Log B: only Log A (restriction wins)."""
    groups = """\
groups:
  - name: Night Shift
    members: [bob@acme.example]
    logs: {select: [log-b]}
"""
    org = build(
        tmp_path,
        customer(LOGS_AB, groups) + grant("    products: [InsightIDR]\n    roles: [InsightIDR Viewer]\n    logs: {select: [log-a], restrict: [log-b]}\n"),
    )
    acc = org.access()
    assert acc.logs == frozenset({"log-a"})
    assert acc.log_reasons["log-b"] == "hidden — restricted directly (the restriction wins over: selected via group Night Shift)"


# --------------------------------------------------------------------------- logs: log sets

SETS = """\
log_sets:
  - name: Firewall
    logs: [fw-1, fw-2]
logs: [dns]
"""
SETS_GROWN = """\
log_sets:
  - name: Firewall
    logs: [fw-1, fw-2, fw-3]
logs: [dns]
"""
IDR = "    products: [InsightIDR]\n    roles: [InsightIDR Viewer]\n"


def _grown(tmp_path: Path, rules: str) -> tuple[AccessModel, AccessModel, AccessModel]:
    """The same rules before and after fw-3 joins Firewall: (before, after, after judged from before)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    before = build(tmp_path / "a", customer(SETS) + grant(IDR + rules))
    after = build(tmp_path / "b", customer(SETS_GROWN) + grant(IDR + rules))
    return before.model, after.model, AccessModel(after.resources, baseline=before.resources)


def _visible(model: AccessModel) -> list[str]:
    acc = model.access("globex", "bob@acme.example")
    assert acc is not None and acc.logs is not None
    return sorted(acc.logs)


def test_selected_log_set_covers_its_logs_and_later_ones(tmp_path: Path) -> None:
    before, after, judged = _grown(tmp_path, "    logs: {select: [Firewall]}\n")
    assert _visible(before) == ["fw-1", "fw-2"]
    assert _visible(after) == ["fw-1", "fw-2", "fw-3"]
    assert _visible(judged) == ["fw-1", "fw-2", "fw-3"]
    acc = judged.access("globex", "bob@acme.example")
    assert acc is not None and acc.log_reasons["fw-3"] == "visible — log set Firewall selected directly"


def test_every_log_of_a_set_selected_one_by_one_covers_later_ones(tmp_path: Path) -> None:
    before, after, judged = _grown(tmp_path, "    logs: {select: [fw-1, fw-2]}\n")
    assert _visible(before) == ["fw-1", "fw-2"]
    assert _visible(judged) == ["fw-1", "fw-2", "fw-3"]
    assert _visible(after) == ["fw-1", "fw-2"]  # judged on its own, the rule is made now: a partial selection
    acc = judged.access("globex", "bob@acme.example")
    assert acc is not None
    assert acc.log_reasons["fw-3"] == "visible — every log of log set Firewall selected directly, which covers logs added to it later"


def test_partial_selection_covers_only_the_logs_selected(tmp_path: Path) -> None:
    before, after, judged = _grown(tmp_path, "    logs: {select: [fw-1]}\n")
    assert _visible(before) == ["fw-1"]
    assert _visible(after) == ["fw-1"]
    assert _visible(judged) == ["fw-1"]
    acc = judged.access("globex", "bob@acme.example")
    assert acc is not None
    assert acc.log_reasons["fw-3"] == (
        "hidden — added to log set Firewall after some of its logs were selected directly; a partial selection covers only the logs selected"
    )


def test_set_selected_with_a_log_restricted_covers_only_the_logs_it_held(tmp_path: Path) -> None:
    before, after, judged = _grown(tmp_path, "    logs: {select: [Firewall], restrict: [fw-2]}\n")
    assert _visible(before) == ["fw-1"]
    assert _visible(judged) == ["fw-1"]
    acc = judged.access("globex", "bob@acme.example")
    assert acc is not None
    assert acc.log_reasons["fw-3"] == (
        "hidden — added to log set Firewall after it was selected directly with fw-2 restricted; "
        "such a selection covers only the logs the set held then"
    )
    # Evaluated on its own (no earlier state), the manifest is the rule as made now.
    assert _visible(after) == ["fw-1", "fw-3"]


def test_changed_rule_is_judged_against_the_sets_of_now(tmp_path: Path) -> None:
    """The baseline pins a rule only while the rule itself is unchanged."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    before = build(tmp_path / "a", customer(SETS) + grant(IDR + "    logs: {select: [Firewall], restrict: [fw-2]}\n"))
    after = build(tmp_path / "b", customer(SETS_GROWN) + grant(IDR + "    logs: {select: [Firewall, dns], restrict: [fw-2]}\n"))
    assert _visible(AccessModel(after.resources, baseline=before.resources)) == ["dns", "fw-1", "fw-3"]


def test_restricting_a_log_set_restricts_its_logs_and_later_ones(tmp_path: Path) -> None:
    groups = """\
groups:
  - name: Perimeter
    members: [bob@acme.example]
    logs: {select: [Firewall, dns]}
"""
    org = build(tmp_path, customer(SETS_GROWN, groups) + grant(IDR + "    logs: {restrict: [Firewall]}\n"))
    acc = org.access()
    assert acc.logs == frozenset({"dns"})
    assert acc.log_reasons["fw-3"] == (
        "hidden — log set Firewall restricted directly (the restriction wins over: log set Firewall selected via group Perimeter)"
    )


def test_default_log_access_gives_every_log_to_log_product_users(tmp_path: Path) -> None:
    org = build(tmp_path, customer(SETS, default_all_logs=True) + grant(IDR) + "  - users: [eve@acme.example]\n    customers: [globex]\n")
    acc = org.access()
    assert acc.logs == frozenset({"dns", "fw-1", "fw-2"})
    assert acc.log_reasons["dns"] == (
        "visible — the account gives every InsightIDR/InsightOps user every log, now and later (default log access)"
    )
    eve = org.access("eve@acme.example")
    assert eve.logs is None  # no InsightIDR or InsightOps: logs do not apply


# --------------------------------------------------------------------------- roles and levels


def test_platform_administrator_has_no_product_access(tmp_path: Path) -> None:
    org = build(tmp_path, customer(SETS) + grant("    platform_admin: true\n"))
    acc = org.access()
    assert (acc.platform_admin, acc.products, acc.features, acc.logs) == (True, (), (), None)
    assert acc.summary() == {"expiry": "permanent", "features": {}, "logs": None, "platform_admin": True, "products": []}


def test_lowest_level_wins_between_two_direct_roles(tmp_path: Path) -> None:
    org = build(tmp_path, customer() + grant("    products: [InsightIDR]\n    roles: [InsightIDR Analyst, InsightIDR Viewer]\n"))
    acc = org.access()
    core = acc.feature("InsightIDR", "InsightIDR Core")
    assert core is not None
    assert core.describe() == (
        "InsightIDR Core: View Only — role InsightIDR Viewer, direct; "
        "lowered from View and Change (role InsightIDR Analyst, direct) by least privilege"
    )
    assert [c.describe() for c in acc.conflicts] == [
        ("privilege conflict for bob@acme.example in globex: InsightIDR feature Detection and Response Dashboards is given "
        "at View Only by role InsightIDR Viewer, direct and at View and Change by role InsightIDR Analyst, direct; "
        "least privilege makes it View Only"),
        ("privilege conflict for bob@acme.example in globex: InsightIDR feature InsightIDR Core is given "
        "at View Only by role InsightIDR Viewer, direct and at View and Change by role InsightIDR Analyst, direct; "
        "least privilege makes it View Only"),
    ]


def test_user_conflict_direct_role_against_group_role(tmp_path: Path) -> None:
    groups = """\
groups:
  - name: SOC Tier 1
    products: [InsightIDR]
    roles: [InsightIDR Viewer]
    members: [bob@acme.example]
"""
    org = build(tmp_path, customer(groups=groups) + grant("    products: [InsightIDR]\n    roles: [Tier 1 Analyst]\n") + """\
roles:
  - name: Tier 1 Analyst
    product: InsightIDR
    permissions: {InsightIDR Core: View and Change}
""")
    acc = org.access()
    core = acc.feature("InsightIDR", "InsightIDR Core")
    assert core is not None
    assert core.describe() == (
        "InsightIDR Core: View Only — role InsightIDR Viewer via group SOC Tier 1; "
        "lowered from View and Change (role Tier 1 Analyst, direct) by least privilege"
    )
    assert acc.conflicts == (
        Conflict(
            "user", "globex", "bob@acme.example", "InsightIDR", "InsightIDR Core",
            (("View Only", RoleSource("InsightIDR Viewer", "SOC Tier 1")), ("View and Change", RoleSource("Tier 1 Analyst", None))),
            "View Only",
        ),
    )


def test_user_conflict_between_two_groups(tmp_path: Path) -> None:
    groups = """\
groups:
  - name: Admins
    products: [InsightIDR]
    roles: [InsightIDR Admin]
    members: [bob@acme.example]
  - name: Analysts
    roles: [InsightIDR Analyst]
    members: [bob@acme.example]
"""
    org = build(tmp_path, customer(groups=groups) + grant())
    acc = org.access()
    assert acc.groups == ("Admins", "Analysts")
    assert [(c.kind, c.feature, c.result) for c in acc.conflicts] == [
        ("user", "Detection and Response Dashboards", "View and Change"),
        ("user", "InsightIDR Core", "View and Change"),
    ]
    assert acc.conflicts[1].describe() == (
        "privilege conflict for bob@acme.example in globex: InsightIDR feature InsightIDR Core is given "
        "at View and Change by role InsightIDR Analyst via group Analysts and at Administer by role InsightIDR Admin via group Admins; "
        "least privilege makes it View and Change"
    )
    assert acc.level("InsightIDR", "Collector") == "Administer"  # only the admin role names it: no conflict


def test_group_conflict_two_roles_inside_one_group(tmp_path: Path) -> None:
    groups = """\
groups:
  - name: Mixed
    products: [InsightIDR]
    roles: [InsightIDR Viewer, InsightIDR Analyst]
    members: [bob@acme.example, eve@acme.example]
"""
    org = build(tmp_path, customer(groups=groups) + grant(user="bob@acme.example, eve@acme.example"))
    conflicts = org.model.conflicts()
    assert [c.describe() for c in conflicts] == [
        ("privilege conflict in group Mixed of globex: InsightIDR feature Detection and Response Dashboards is given "
        "at View Only by role InsightIDR Viewer via group Mixed and at View and Change by role InsightIDR Analyst via group Mixed; "
        "least privilege makes it View Only"),
        ("privilege conflict in group Mixed of globex: InsightIDR feature InsightIDR Core is given "
        "at View Only by role InsightIDR Viewer via group Mixed and at View and Change by role InsightIDR Analyst via group Mixed; "
        "least privilege makes it View Only"),
    ]
    assert org.access().conflicts == ()  # one group's own disagreement is the group's conflict
    assert org.access().level("InsightIDR", "InsightIDR Core") == "View Only"


def test_insufficient_access_when_no_role_reaches_the_core_feature(tmp_path: Path) -> None:
    org = build(tmp_path, customer() + grant("    products: [InsightIDR]\n    roles: [Log Search Admin]\n"))
    acc = org.access()
    assert [c.describe() for c in acc.conflicts] == [
        ("insufficient access for bob@acme.example in globex: InsightIDR is assigned (directly) but no role gives its core feature "
        "InsightIDR Core at View Only or above (roles applying to it: role Log Search Admin, direct), so the product is of no use to them")
    ]
    assert acc.conflicts[0].result is None
    assert acc.conflicts[0].hint() == "assign a role reaching InsightIDR Core, directly or through a group, e.g. InsightIDR Viewer"


def test_insufficient_access_from_a_group_without_roles(tmp_path: Path) -> None:
    groups = """\
groups:
  - name: Readers
    products: [InsightIDR]
    members: [bob@acme.example]
"""
    org = build(tmp_path, customer(groups=groups) + grant())
    assert [c.describe() for c in org.access().conflicts] == [
        ("insufficient access for bob@acme.example in globex: InsightIDR is assigned (via group Readers) but no role gives its core feature "
        "InsightIDR Core at View Only or above (no role applies to it), so the product is of no use to them")
    ]


def test_insightconnect_is_full_access_whatever_the_role(tmp_path: Path) -> None:
    org = build(tmp_path, customer(products="[InsightConnect]") + grant("    products: [InsightConnect]\n    roles: [View Only]\n"))
    acc = org.access()
    assert acc.summary()["features"] == {"InsightConnect": {"Product": "Administer"}}
    assert acc.features[0].describe() == (
        "Product: Administer — product InsightConnect assigned directly, which gives full access whatever the role"
    )
    assert acc.conflicts == ()


def test_insightvm_ignores_platform_roles(tmp_path: Path) -> None:
    org = build(tmp_path, customer(products="[InsightVM]") + grant("    products: [InsightVM]\n    roles: [Administrator]\n"))
    acc = org.access()
    assert (acc.products, acc.roles_ignored, acc.features, acc.conflicts) == (("InsightVM",), ("InsightVM",), (), ())


def test_custom_role_extends_a_managed_role(tmp_path: Path) -> None:
    roles = """\
roles:
  - name: Tier 1 Analyst
    product: InsightIDR
    extends: InsightIDR Viewer
    permissions: {InsightIDR Core: View and Change, Collector: View Only}
"""
    org = build(tmp_path, customer() + grant("    products: [InsightIDR]\n    roles: [Tier 1 Analyst]\n") + roles)
    assert org.access().summary()["features"] == {
        "InsightIDR": {"Collector": "View Only", "Detection and Response Dashboards": "View Only", "InsightIDR Core": "View and Change"}
    }


def test_a_role_gives_nothing_to_a_product_it_does_not_suit(tmp_path: Path) -> None:
    org = build(tmp_path, customer(products="[InsightIDR, InsightOps]") + grant("    products: [InsightIDR]\n    roles: [InsightOps Admin, InsightIDR Viewer]\n"))
    assert org.access().summary()["features"] == {"InsightIDR": {"Detection and Response Dashboards": "View Only", "InsightIDR Core": "View Only"}}


def test_unlicensed_product_gives_nothing(tmp_path: Path) -> None:
    org = build(tmp_path, customer() + grant("    products: [InsightIDR, InsightAppSec]\n    roles: [InsightIDR Viewer, InsightAppSec Admin]\n"))
    acc = org.access()
    assert (acc.products, acc.unlicensed) == (("InsightIDR",), ("InsightAppSec",))
    assert "InsightAppSec" not in acc.summary()["features"]


def test_customer_staff_access_comes_from_their_user_entry(tmp_path: Path) -> None:
    staff = """\
users:
  - email: nadia@globex.example
    first_name: Nadia
    last_name: Petrova
    timezone: Europe/Berlin
    products: [InsightIDR]
    roles: [InsightIDR Admin]
"""
    org = build(tmp_path, customer(extra=staff))
    acc = org.access("nadia@globex.example")
    assert (acc.expiry, acc.products, acc.level("InsightIDR", "InsightIDR Core")) == (None, ("InsightIDR",), "Administer")
    assert org.model.users("globex") == ["nadia@globex.example"]
    assert org.model.access("globex", "bob@acme.example") is None


def test_partner_users_have_access_in_the_partner_account(tmp_path: Path) -> None:
    org = build(tmp_path, customer())
    assert org.model.users("acme-mssp") == ["bob@acme.example", "dl@acme.example", "eve@acme.example"]
    acc = org.access("bob@acme.example", "acme-mssp")
    assert (acc.platform_admin, acc.products, acc.expiry, acc.distribution_list) == (False, (), None, False)
    assert org.access("dl@acme.example", "acme-mssp").distribution_list


def test_summary_is_the_canonical_view(tmp_path: Path) -> None:
    org = build(tmp_path, customer(SETS) + grant("    duration: 48h\n" + IDR + "    logs: {select: [dns]}\n"))
    assert org.access().summary() == {
        "expiry": "48h",
        "features": {"InsightIDR": {"Detection and Response Dashboards": "View Only", "InsightIDR Core": "View Only"}},
        "logs": ["dns"],
        "platform_admin": False,
        "products": ["InsightIDR"],
    }


def test_resources_of_a_missing_account_are_ignored() -> None:
    model = AccessModel({"assignment/ghost/bob@acme.example": {"products": ["InsightIDR"], "roles": []}})
    assert (model.accounts(), model.access("ghost", "bob@acme.example")) == ([], None)
